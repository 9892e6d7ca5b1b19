vcl 4.1;
# The front HTTP cache of the local stack, in the role Workers Cache plays in front of the
# Worker when deployed (README.md "Local stack"). dev/varnish/varnishd.ts fills in the backend
# (the Worker) and starts varnishd with it.
#
# - Freshness: Cloudflare-CDN-Cache-Control over CDN-Cache-Control over Cache-Control, the most
#   specific wins (RFC 9213); within one field s-maxage over max-age. stale-while-revalidate and
#   stale-if-error are honoured; without them a copy is never served past its TTL (no default grace).
# - CF-Cache-Status on every answer, with Cloudflare's values: HIT, MISS, EXPIRED (an expired copy was
#   refetched and the Worker sent a new body), REVALIDATED (it answered the copy's If-None-Match with
#   304), STALE (served past its TTL), BYPASS (method, Authorization/Cookie, Set-Cookie, no-store/private).
# - Vary is honoured as Varnish does natively (RFC 9111): a copy answers only requests whose varied
#   headers match the ones it was stored for. The Worker varies on X-Sync-Token, so a read carrying a
#   token (docs/read-your-own-writes.md) never gets a copy stored without it; nothing here touches Vary.
# - Cache-Tag values are kept as xkeys and the header is stripped from what clients see, as Cloudflare does.
# - PURGE from loopback: X-Purge-Tags / X-Purge-Prefixes (space-separated) / X-Purge-Everything: 1,
#   X-Purge-Mode: purge (default) or invalidate (mark stale, revalidate on the next request); answers
#   {"purged": n}, n = objects affected or -1 when Varnish cannot count them (prefixes).

import std;
import var;
import xkey;

backend worker {
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
		unset req.http.X-Front-Status;
		unset req.http.X-Front-Grace;
		unset req.http.X-Front-Sie;
		unset req.http.X-Front-Serve-Stale;
		unset req.http.X-Front-Purged;
	}
	if (req.method == "PURGE") {
		call front_purge;
	}
	if (std.integer(req.http.Content-Length, 0) > 1048576) {
		return (synth(413, "Request body larger than 1 MiB"));
	}
	call vcl_req_host;
	# Until a lookup says otherwise: a pass never looks up.
	set req.http.X-Front-Status = "BYPASS";
	# Pipes what is not HTTP, passes every method but GET and HEAD.
	call vcl_req_method;
	if (req.http.Authorization || req.http.Cookie) {
		return (pass);
	}
	if (req.http.X-Front-Grace) {
		# A second lookup (vcl_hit) that may use only the copy's stale-while-revalidate window.
		set req.grace = std.duration(req.http.X-Front-Grace + "s", 0s);
	} else {
		# A restart keeps req.grace (it cannot be unset): no limit, the copy's own grace.
		set req.grace = 3650d;
	}
	return (hash);
}

sub front_purge {
	if (client.ip !~ loopback) {
		return (synth(403, "PURGE is accepted from loopback only"));
	}
	if (req.http.X-Purge-Tags !~ "\S" && req.http.X-Purge-Prefixes !~ "\S" && req.http.X-Purge-Everything != "1") {
		return (synth(400, "PURGE needs X-Purge-Tags, X-Purge-Prefixes or X-Purge-Everything: 1"));
	}
	if (req.http.X-Purge-Mode && req.http.X-Purge-Mode !~ "^(purge|invalidate)$") {
		return (synth(400, "X-Purge-Mode is purge or invalidate"));
	}
	if (req.http.X-Purge-Prefixes ~ "\S" && req.http.X-Purge-Prefixes !~ "^\s*/[^\s\x22\\]*(\s+/[^\s\x22\\]*)*\s*$") {
		return (synth(400, "X-Purge-Prefixes: space-separated path prefixes, each starting with /"));
	}
	set req.http.X-Front-Purged = "0";
	if (req.http.X-Purge-Everything == "1") {
		# Every stored object carries this key (vcl_backend_response), so "everything" is counted
		# and can be soft: a ban could do neither.
		if (req.http.X-Purge-Mode == "invalidate") {
			set req.http.X-Front-Purged = xkey.softpurge("front:everything");
		} else {
			set req.http.X-Front-Purged = xkey.purge("front:everything");
		}
		return (synth(200, "Purged"));
	}
	if (req.http.X-Purge-Tags ~ "\S") {
		if (req.http.X-Purge-Mode == "invalidate") {
			set req.http.X-Front-Purged = xkey.softpurge(req.http.X-Purge-Tags);
		} else {
			set req.http.X-Front-Purged = xkey.purge(req.http.X-Purge-Tags);
		}
	}
	if (req.http.X-Purge-Prefixes ~ "\S") {
		# One ban for all the prefixes: ^(?:\Q/a\E|\Q/b/\E) over each object's URL (the quoting is
		# safe because a prefix holds no backslash). A ban always removes: Varnish has no soft ban,
		# so prefixes are purged even in invalidate mode, and it cannot say how many objects it hit.
		set req.http.X-Front-Ban = "^(?:" + regsuball(regsuball(regsuball(req.http.X-Purge-Prefixes,
			"^\s+|\s+$", ""), "(\S+)", "\\Q\1\\E"), "\s+", "|") + ")";
		if (!std.ban("obj.http.X-Front-Url ~ " + req.http.X-Front-Ban)) {
			return (synth(400, "X-Purge-Prefixes: " + std.ban_error()));
		}
		set req.http.X-Front-Purged = "-1";
	}
	return (synth(200, "Purged"));
}

sub vcl_hit {
	if (obj.ttl >= 0s) {
		set req.http.X-Front-Status = "HIT";
		return (deliver);
	}
	# Past its TTL, within its grace (the longer of stale-while-revalidate and stale-if-error).
	if (req.http.X-Front-Serve-Stale || obj.ttl + std.duration(obj.http.X-Front-Swr + "s", 0s) > 0s) {
		# Varnish refreshes the copy in the background.
		set req.http.X-Front-Status = "STALE";
		return (deliver);
	}
	# Beyond stale-while-revalidate, within stale-if-error: fetch now and serve this copy only if
	# the Worker fails. vcl_hit cannot turn into a miss, so look up again allowing only the
	# stale-while-revalidate grace; the copy then serves as the one to revalidate.
	set req.http.X-Front-Grace = obj.http.X-Front-Swr;
	set req.http.X-Front-Sie = "1";
	return (restart);
}

sub vcl_miss {
	set req.http.X-Front-Status = "MISS";
	return (fetch);
}

sub vcl_pass {
	return (fetch);
}

sub vcl_backend_fetch {
	# The client side's markers stay out of what the Worker sees.
	var.set("stale-if-error", bereq.http.X-Front-Sie);
	unset bereq.http.X-Front-Status;
	unset bereq.http.X-Front-Grace;
	unset bereq.http.X-Front-Sie;
	unset bereq.http.X-Front-Serve-Stale;
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
	# The Worker's conditional headers are Varnish's own (a client's are not sent on a miss): they
	# mean an expired copy is being refreshed.
	if (beresp.was_304) {
		set beresp.http.X-Front-Fetch = "REVALIDATED";
	} elsif (bereq.http.If-None-Match || bereq.http.If-Modified-Since) {
		set beresp.http.X-Front-Fetch = "EXPIRED";
	} else {
		set beresp.http.X-Front-Fetch = "MISS";
	}

	# The most specific field wins (RFC 9213).
	if (beresp.http.Cloudflare-CDN-Cache-Control) {
		std.collect(beresp.http.Cloudflare-CDN-Cache-Control, ", ");
		var.set("cc", std.tolower(beresp.http.Cloudflare-CDN-Cache-Control));
	} elsif (beresp.http.CDN-Cache-Control) {
		std.collect(beresp.http.CDN-Cache-Control, ", ");
		var.set("cc", std.tolower(beresp.http.CDN-Cache-Control));
	} else {
		std.collect(beresp.http.Cache-Control, ", ");
		var.set("cc", std.tolower(beresp.http.Cache-Control));
	}

	if (beresp.status >= 500 || beresp.http.Set-Cookie || beresp.http.Vary == "*" ||
	    var.get("cc") ~ "(^|[,\s])(no-store|private)\b" ||
	    std.integer(beresp.http.Content-Length, 0) > 8388608) {
		call front_bypass;
	}
	if (var.get("cc") ~ "(^|[,\s])no-cache\b") {
		# Stored, but revalidated on every request.
		var.set("ttl", "0");
	} elsif (var.get("cc") ~ "(^|[,\s])s-maxage\s*=\s*\x22?\d") {
		var.set("ttl", regsub(var.get("cc"), "^(?:.*[,\s])?s-maxage\s*=\s*\x22?(\d{1,10}).*$", "\1"));
	} elsif (var.get("cc") ~ "(^|[,\s])max-age\s*=\s*\x22?\d") {
		var.set("ttl", regsub(var.get("cc"), "^(?:.*[,\s])?max-age\s*=\s*\x22?(\d{1,10}).*$", "\1"));
	} else {
		# Nothing says it may be shared for any time.
		call front_bypass;
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
	# Age is what the copy has lived already, upstream.
	set beresp.ttl = std.duration(var.get("ttl") + "s", 0s) - beresp.age;
	set beresp.grace = std.duration(var.get("swr") + "s", 0s);
	if (std.duration(var.get("sie") + "s", 0s) > beresp.grace) {
		set beresp.grace = std.duration(var.get("sie") + "s", 0s);
	}
	set beresp.http.X-Front-Swr = var.get("swr");
	# What PURGE finds a copy by: its URL (prefixes) and its keys (tags, everything).
	set beresp.http.X-Front-Url = bereq.url;
	set beresp.http.xkey = "front:everything";
	if (beresp.http.Cache-Tag) {
		# xkey splits on spaces and commas, Cache-Tag's separator.
		set beresp.http.xkey = "front:everything, " + beresp.http.Cache-Tag;
	}
	# A copy with a validator outlives its grace so the next request can revalidate it (and so can
	# one invalidated by PURGE in invalidate mode); storage is bounded, the oldest go first.
	if (beresp.http.ETag || beresp.http.Last-Modified) {
		set beresp.keep = 1h;
	} else {
		set beresp.keep = 0s;
	}
	return (deliver);
}

sub front_bypass {
	set beresp.http.X-Front-Fetch = "BYPASS";
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
	set beresp.http.Retry-After = "5";
	set beresp.http.Cache-Control = "no-store";
	set beresp.body = {"{"error":"the front cache could not reach the Worker""} + "}";
	set beresp.ttl = 0s;
	set beresp.grace = 0s;
	set beresp.keep = 0s;
	return (deliver);
}

sub vcl_deliver {
	if (req.http.X-Front-Status == "MISS" && resp.http.X-Front-Fetch) {
		set req.http.X-Front-Status = resp.http.X-Front-Fetch;
	}
	set resp.http.CF-Cache-Status = req.http.X-Front-Status;
	unset resp.http.Cache-Tag;
	unset resp.http.Cloudflare-CDN-Cache-Control;
	unset resp.http.xkey;
	unset resp.http.X-Front-Url;
	unset resp.http.X-Front-Swr;
	unset resp.http.X-Front-Fetch;
	return (deliver);
}

sub vcl_synth {
	if (resp.status == 503 && req.http.X-Front-Sie == "1" && req.restarts < 3) {
		# The refetch within stale-if-error failed (vcl_backend_response abandoned it): the stale copy.
		unset req.http.X-Front-Grace;
		unset req.http.X-Front-Sie;
		set req.http.X-Front-Serve-Stale = "1";
		return (restart);
	}
	set resp.http.Content-Type = "application/json";
	set resp.http.Cache-Control = "no-store";
	if (req.method == "PURGE" && resp.status == 200) {
		set resp.body = {"{"purged":"} + req.http.X-Front-Purged + "}";
	} else {
		if (resp.status == 503) {
			set resp.http.Retry-After = "5";
		}
		set resp.body = {"{"error":""} + resp.reason + {"""} + "}";
	}
	return (deliver);
}
