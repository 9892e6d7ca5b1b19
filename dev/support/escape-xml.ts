/**
 * Text and attribute escaping for the XML that dev tools write: the CloudFront fake's
 * answers and the bench's SVG chart. Both escape the same five characters, so it lives
 * below both rather than in either.
 */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}
