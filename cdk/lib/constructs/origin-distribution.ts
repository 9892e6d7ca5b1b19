/**
 * The CloudFront distribution in front of the marketplace origin, or an existing one
 * (`distributionId`). A created distribution talks HTTPS only to viewers and to the origin,
 * compresses, and caches exactly as long as the origin's Cache-Control says (nothing when the
 * origin sends none, a day at most), keyed on the path and every query parameter. Every one
 * matters: the Worker's refills add their tags' version (`_v`, core/tag-versions.ts), and only
 * a key that includes it keeps a copy from before an event from answering them. The max TTL is
 * the one tag versions are sized by (TAG_VERSION_TTL_SECONDS outlives it).
 */
import { Duration, Stack, Validations } from "aws-cdk-lib";
import {
  AllowedMethods,
  CachedMethods,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  HttpVersion,
  type IDistribution,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { Construct } from "constructs";
import { ORIGIN_CDN_MAX_TTL_SECONDS } from "../../../core/tag-versions";

export interface OriginDistributionProps {
  readonly originDomain: string;
  /** Import this distribution instead of creating one. */
  readonly distributionId?: string;
  readonly distributionDomainName?: string;
}

export class OriginDistribution extends Construct {
  readonly distribution: IDistribution;
  /** `arn:aws:cloudfront::ACCOUNT:distribution/ID`: the only resource purges may invalidate. */
  readonly distributionArn: string;
  /** The cache policy of a created distribution (undefined when imported). */
  readonly cachePolicy?: CachePolicy;

  constructor(scope: Construct, id: string, props: OriginDistributionProps) {
    super(scope, id);

    if (props.distributionId) {
      this.distribution = Distribution.fromDistributionAttributes(this, "Distribution", {
        distributionId: props.distributionId,
        domainName: props.distributionDomainName ?? "",
      });
    } else {
      this.cachePolicy = new CachePolicy(this, "HonourOriginCacheControl", {
        comment: "TTL from the origin's Cache-Control; nothing is cached without one",
        minTtl: Duration.seconds(0),
        defaultTtl: Duration.seconds(0),
        maxTtl: Duration.seconds(ORIGIN_CDN_MAX_TTL_SECONDS),
        // All, not a list: the Worker's version parameter (ORIGIN_VERSION_PARAM) is configurable.
        queryStringBehavior: CacheQueryStringBehavior.all(),
        headerBehavior: CacheHeaderBehavior.none(),
        enableAcceptEncodingGzip: true,
        enableAcceptEncodingBrotli: true,
      });
      this.distribution = new Distribution(this, "Distribution", {
        comment: `edge cache origin ${props.originDomain}`,
        httpVersion: HttpVersion.HTTP2_AND_3,
        priceClass: PriceClass.PRICE_CLASS_100,
        defaultBehavior: {
          origin: new HttpOrigin(props.originDomain, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          compress: true,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: CachedMethods.CACHE_GET_HEAD_OPTIONS,
          cachePolicy: this.cachePolicy,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      });
      Validations.of(this.distribution).acknowledge(
        {
          id: "AwsSolutions-CFR1",
          reason:
            "The marketplace is public and global: GPU availability and prices are served to every country, so there is no geo restriction to apply.",
        },
        {
          id: "AwsSolutions-CFR2",
          reason:
            "Reads only (GET/HEAD/OPTIONS) of public, cacheable data; the Cloudflare Worker in front already filters traffic and a WAF web ACL (us-east-1, paid per request) is left to the operator's account-wide firewall policy.",
        },
        {
          id: "AwsSolutions-CFR3",
          reason:
            "Access logging needs an ACL-enabled S3 bucket; the origin and the Worker already log every request that misses the cache, and CloudFront standard metrics are on.",
        },
        {
          id: "AwsSolutions-CFR4",
          reason:
            "The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the viewer security policy (TLSv1); its only client is the Cloudflare Worker, which negotiates TLS 1.3.",
        },
      );
    }
    this.distributionArn = Stack.of(this).formatArn({
      service: "cloudfront",
      region: "",
      resource: "distribution",
      resourceName: this.distribution.distributionId,
    });
  }
}
