/**
 * A small, strict XML reader and writer for the CloudFront fake: enough for the
 * REST-XML bodies the AWS SDK sends (elements, text, entities, CDATA, comments,
 * a prolog). No DTDs (refused, so no entity expansion), no external anything.
 */

export interface XmlElement {
  /** Local name (any `prefix:` dropped). */
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element. */
  readonly text: string;
}

export class XmlParseError extends Error {
  override readonly name = "XmlParseError";
}

const NAME = /[A-Za-z_][A-Za-z0-9._:-]*/y;
const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]*);|&/g, (match, entity: string | undefined) => {
    if (entity === undefined) throw new XmlParseError("bare '&' in character data");
    if (entity.startsWith("#x") || entity.startsWith("#X")) {
      const code = Number.parseInt(entity.slice(2), 16);
      if (!Number.isFinite(code)) throw new XmlParseError(`bad character reference ${match}`);
      return String.fromCodePoint(code);
    }
    if (entity.startsWith("#")) {
      const code = Number.parseInt(entity.slice(1), 10);
      if (!Number.isFinite(code)) throw new XmlParseError(`bad character reference ${match}`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[entity];
    if (value === undefined) throw new XmlParseError(`unknown entity ${match}`);
    return value;
  });
}

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (message: string): never => {
    throw new XmlParseError(`${message} at offset ${pos}`);
  };
  const skipWhitespace = () => {
    while (pos < source.length && /\s/.test(source[pos] ?? "")) pos++;
  };
  const skipPast = (end: string, what: string) => {
    const at = source.indexOf(end, pos);
    if (at < 0) fail(`unterminated ${what}`);
    pos = at + end.length;
  };
  /** Prolog, comments and processing instructions outside the root. */
  const skipMisc = () => {
    for (;;) {
      skipWhitespace();
      if (source.startsWith("<?", pos)) skipPast("?>", "processing instruction");
      else if (source.startsWith("<!--", pos)) skipPast("-->", "comment");
      else if (source.startsWith("<!", pos)) fail("DTDs are not accepted");
      else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const match = NAME.exec(source);
    if (!match) return fail("expected a name");
    pos = NAME.lastIndex;
    return match[0];
  };
  const localName = (name: string) => name.slice(name.indexOf(":") + 1);

  const parseElement = (): XmlElement => {
    if (source[pos] !== "<") fail("expected '<'");
    pos++;
    const qualified = readName();
    const attributes: Record<string, string> = {};
    for (;;) {
      skipWhitespace();
      if (source.startsWith("/>", pos)) {
        pos += 2;
        return { name: localName(qualified), attributes, children: [], text: "" };
      }
      if (source[pos] === ">") {
        pos++;
        break;
      }
      const attribute = readName();
      skipWhitespace();
      if (source[pos] !== "=") fail("expected '=' after an attribute name");
      pos++;
      skipWhitespace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") return fail("expected a quoted attribute value");
      const end = source.indexOf(quote, pos + 1);
      if (end < 0) fail("unterminated attribute value");
      attributes[attribute] = decodeEntities(source.slice(pos + 1, end));
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      if (pos >= source.length) fail(`unclosed element <${qualified}>`);
      if (source.startsWith("</", pos)) {
        pos += 2;
        const closing = readName();
        if (closing !== qualified) fail(`</${closing}> closes <${qualified}>`);
        skipWhitespace();
        if (source[pos] !== ">") fail("expected '>'");
        pos++;
        return { name: localName(qualified), attributes, children, text };
      }
      if (source.startsWith("<!--", pos)) skipPast("-->", "comment");
      else if (source.startsWith("<![CDATA[", pos)) {
        const end = source.indexOf("]]>", pos);
        if (end < 0) fail("unterminated CDATA");
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith("<?", pos)) skipPast("?>", "processing instruction");
      else if (source[pos] === "<") children.push(parseElement());
      else {
        const next = source.indexOf("<", pos);
        const end = next < 0 ? source.length : next;
        text += decodeEntities(source.slice(pos, end));
        pos = end;
      }
    }
  };

  skipMisc();
  if (pos >= source.length) fail("no root element");
  const root = parseElement();
  skipMisc();
  if (pos < source.length) fail("content after the root element");
  return root;
}

/** The first child named `name`. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}
