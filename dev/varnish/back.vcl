vcl 4.1;
# The back HTTP cache of the local stack, in the role CloudFront plays in front of the marketplace
# origin when deployed (cdk/lib/constructs/origin-distribution.ts; README.md "Local stack").
# dev/varnish/varnishd.ts fills in the backend (the origin) and starts varnishd with it.
#
# - As the CDK cache policy: the key is the full URL with every query string (no header, no host);
#   the TTL comes from the origin's Cache-Control only, s-maxage over max-age, at most one day;
#   nothing is cached without one (default TTL 0), nor what is no-store, no-cache or private.
# - stale-while-revalidate and stale-if-error are honoured, as CloudFront does; no default grace.
# - X-Cache as CloudFront says it: Hit / RefreshHit (revalidated with a 304) / Miss / Error from cloudfront.
# - PURGE from loopback applies a CloudFront invalidation as bans (dev/fakes/cloudfront-fake.ts sends
#   one once an invalidation completes): X-Invalidation-Paths, space-separated; a path ending in *
#   bans that prefix, any other path exactly that URL path with any query string.

import std;
import var;

backend origin {
	.host = "{{BACKEND_HOST}}";
	.port = "{{BACKEND_PORT}}";
	.connect_timeout = 2s;
	.first_byte_timeout = 30s;
	.between_bytes_timeout = 10s;
	.max_connections = 256;
}

acl loopback {
	"127.0.0.0"/8;
	"::1";
}

sub vcl_recv {
	if (req.restarts == 0) {
		# Markers this VCL passes between its own steps; a client cannot set them.
		unset req.http.X-Back-Status;
		unset req.http.X-Back-Grace;
		unset req.http.X-Back-Sie;
		unset req.http.X-Back-Serve-Stale;
	}
	if (req.method == "PURGE") {
		call back_ban;
	}
	# The distribution allows GET, HEAD and OPTIONS (AllowedMethods.ALLOW_GET_HEAD_OPTIONS).
	if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
		return (synth(403, "This distribution is not configured to allow the HTTP request method that was used for this request."));
	}
	set req.http.X-Back-Status = "Miss";
	if (req.method == "OPTIONS") {
		# Varnish fetches every cacheable request as a GET, so an OPTIONS is passed.
		return (pass);
	}
	if (req.http.Authorization || req.http.Cookie) {
		# Per-user reads (the Worker's /v1/bookings) reach the origin and are never shared.
		return (pass);
	}
	if (req.http.X-Back-Grace) {
		# A second lookup (vcl_hit) that may use only the copy's stale-while-revalidate window.
		set req.grace = std.duration(req.http.X-Back-Grace + "s", 0s);
	} else {
		# A restart keeps req.grace (it cannot be unset): no limit, the copy's own grace.
		set req.grace = 3650d;
	}
	return (hash);
}

sub back_ban {
	if (client.ip !~ loopback) {
		return (synth(403, "PURGE is accepted from loopback only"));
	}
	if (req.http.X-Invalidation-Paths !~ "\S") {
		return (synth(400, "PURGE needs X-Invalidation-Paths"));
	}
	if (req.http.X-Invalidation-Paths !~ "^\s*/[^\s\x22\\*]*\*?(\s+/[^\s\x22\\*]*\*?)*\s*$") {
		return (synth(400, "X-Invalidation-Paths: space-separated paths, each starting with /, * only at the end"));
	}
	# One ban over each object's URL: /a/* becomes \Q/a/\E (a prefix), /a/b becomes \Q/a/b\E(?:\?|$)
	# (that path with any query string). The quoting is safe because a path holds no backslash.
	set req.http.X-Back-Ban = regsuball(req.http.X-Invalidation-Paths, "(^|\s)(/[^\s*]*)\*(?=\s|$)", "\1\\Q\2\\E");
	set req.http.X-Back-Ban = regsuball(req.http.X-Back-Ban, "(^|\s)(/[^\s*]*)(?=\s|$)", "\1\\Q\2\\E(?:\\?|$)");
	set req.http.X-Back-Ban = "^(?:" + regsuball(regsuball(req.http.X-Back-Ban, "^\s+|\s+$", ""), "\s+", "|") + ")";
	if (!std.ban("obj.http.X-Back-Url ~ " + req.http.X-Back-Ban)) {
		return (synth(400, "X-Invalidation-Paths: " + std.ban_error()));
	}
	return (synth(200, "Banned"));
}

sub vcl_hash {
	# One distribution, one key space: the URL alone.
	hash_data(req.url);
	return (lookup);
}

sub vcl_hit {
	if (obj.ttl >= 0s) {
		set req.http.X-Back-Status = "Hit";
		return (deliver);
	}
	# Past its TTL, within its grace (the longer of stale-while-revalidate and stale-if-error).
	if (req.http.X-Back-Serve-Stale || obj.ttl + std.duration(obj.http.X-Back-Swr + "s", 0s) > 0s) {
		# Varnish refreshes the copy in the background.
		set req.http.X-Back-Status = "Hit";
		return (deliver);
	}
	# Beyond stale-while-revalidate, within stale-if-error: fetch now and serve this copy only if the
	# origin fails. vcl_hit cannot turn into a miss, so look up again allowing only the
	# stale-while-revalidate grace; the copy then serves as the one to revalidate.
	set req.http.X-Back-Grace = obj.http.X-Back-Swr;
	set req.http.X-Back-Sie = "1";
	return (restart);
}

sub vcl_miss {
	set req.http.X-Back-Status = "Miss";
	return (fetch);
}

sub vcl_pass {
	return (fetch);
}

sub vcl_backend_fetch {
	# The client side's markers stay out of what the origin sees.
	var.set("stale-if-error", bereq.http.X-Back-Sie);
	unset bereq.http.X-Back-Status;
	unset bereq.http.X-Back-Grace;
	unset bereq.http.X-Back-Sie;
	unset bereq.http.X-Back-Serve-Stale;
	if (bereq.method == "GET") {
		unset bereq.body;
	}
	return (fetch);
}

sub vcl_backend_response {
	if (bereq.uncacheable) {
		return (deliver);
	}
	if (beresp.status >= 500 && (bereq.is_bgfetch || var.get("stale-if-error") == "1")) {
		# Keep the stale copy: the client side serves it (vcl_synth), a background refresh just fails.
		return (abandon);
	}
	if (beresp.was_304) {
		set beresp.http.X-Back-Fetch = "RefreshHit";
	} else {
		set beresp.http.X-Back-Fetch = "Miss";
	}
	std.collect(beresp.http.Cache-Control, ", ");
	var.set("cc", std.tolower(beresp.http.Cache-Control));
	if (beresp.status >= 500 || beresp.http.Set-Cookie || beresp.http.Vary == "*" ||
	    var.get("cc") ~ "(^|[,\s])(no-store|no-cache|private)\b" ||
	    std.integer(beresp.http.Content-Length, 0) > 8388608) {
		call back_uncacheable;
	}
	if (var.get("cc") ~ "(^|[,\s])s-maxage\s*=\s*\x22?\d") {
		var.set("ttl", regsub(var.get("cc"), "^(?:.*[,\s])?s-maxage\s*=\s*\x22?(\d{1,10}).*$", "\1"));
	} elsif (var.get("cc") ~ "(^|[,\s])max-age\s*=\s*\x22?\d") {
		var.set("ttl", regsub(var.get("cc"), "^(?:.*[,\s])?max-age\s*=\s*\x22?(\d{1,10}).*$", "\1"));
	} else {
		# The policy's default TTL is 0.
		call back_uncacheable;
	}
	var.set("swr", "0");
	var.set("sie", "0");
	if (var.get("cc") !~ "(^|[,\s])(must-revalidate|proxy-revalidate)\b") {
		if (var.get("cc") ~ "(^|[,\s])stale-while-revalidate\s*=\s*\x22?\d") {
			var.set("swr", regsub(var.get("cc"),
				"^(?:.*[,\s])?stale-while-revalidate\s*=\s*\x22?(\d{1,10}).*$", "\1"));
		}
		if (var.get("cc") ~ "(^|[,\s])stale-if-error\s*=\s*\x22?\d") {
			var.set("sie", regsub(var.get("cc"), "^(?:.*[,\s])?stale-if-error\s*=\s*\x22?(\d{1,10}).*$", "\1"));
		}
	}
	set beresp.ttl = std.duration(var.get("ttl") + "s", 0s);
	if (beresp.ttl > 86400s) {
		# The policy's maximum TTL.
		set beresp.ttl = 86400s;
	}
	# Age is what the copy has lived already, upstream.
	set beresp.ttl = beresp.ttl - beresp.age;
	set beresp.grace = std.duration(var.get("swr") + "s", 0s);
	if (std.duration(var.get("sie") + "s", 0s) > beresp.grace) {
		set beresp.grace = std.duration(var.get("sie") + "s", 0s);
	}
	set beresp.http.X-Back-Swr = var.get("swr");
	# What an invalidation's ban matches.
	set beresp.http.X-Back-Url = bereq.url;
	# A copy with a validator outlives its grace so the next request can revalidate it; storage is
	# bounded, the oldest go first.
	if (beresp.http.ETag || beresp.http.Last-Modified) {
		set beresp.keep = 1h;
	} else {
		set beresp.keep = 0s;
	}
	return (deliver);
}

sub back_uncacheable {
	set beresp.uncacheable = true;
	if (beresp.status >= 500) {
		# No hit-for-miss marker, which would hide a stale copy from stale-if-error.
		set beresp.ttl = 0s;
	} else {
		set beresp.ttl = 120s;
	}
	set beresp.grace = 0s;
	set beresp.keep = 0s;
	return (deliver);
}

sub vcl_backend_error {
	if (bereq.is_bgfetch || var.get("stale-if-error") == "1") {
		return (abandon);
	}
	set beresp.http.Content-Type = "application/json";
	set beresp.http.Cache-Control = "no-store";
	set beresp.body = {"{"error":"the origin cache could not reach the origin""} + "}";
	set beresp.ttl = 0s;
	set beresp.grace = 0s;
	set beresp.keep = 0s;
	return (deliver);
}

sub vcl_deliver {
	if (req.http.X-Back-Status == "Miss" && resp.http.X-Back-Fetch) {
		set req.http.X-Back-Status = resp.http.X-Back-Fetch;
	}
	if (resp.status >= 400) {
		set req.http.X-Back-Status = "Error";
	}
	set resp.http.X-Cache = req.http.X-Back-Status + " from cloudfront";
	unset resp.http.X-Back-Url;
	unset resp.http.X-Back-Swr;
	unset resp.http.X-Back-Fetch;
	return (deliver);
}

sub vcl_synth {
	if (resp.status == 503 && req.http.X-Back-Sie == "1" && req.restarts < 3) {
		# The refetch within stale-if-error failed (vcl_backend_response abandoned it): the stale copy.
		unset req.http.X-Back-Grace;
		unset req.http.X-Back-Sie;
		set req.http.X-Back-Serve-Stale = "1";
		return (restart);
	}
	set resp.http.Content-Type = "application/json";
	set resp.http.Cache-Control = "no-store";
	if (req.method == "PURGE" && resp.status == 200) {
		set resp.body = {"{"banned":true}"};
	} else {
		set resp.http.X-Cache = "Error from cloudfront";
		set resp.body = {"{"error":""} + resp.reason + {"""} + "}";
	}
	return (deliver);
}
