// The one check for a URL that comes from a page or from the database
// before it becomes an href or a src (docs/frontend.md, "Links, images and
// downloads"). The value is parsed the way the browser parses it (WHATWG
// URL, against the document's base URL), so tabs, line breaks, control
// characters, leading spaces and letter case cannot hide a scheme, and the
// parsed, serialized URL is what the caller puts in the attribute: the URL
// checked is the URL followed.
//
//   kind      allowed
//   link      http:, https:, mailto:
//   download  http:, https:, data: of CSV, plain text, JSON or octet-stream
//   image     this server's own http(s) URLs, data: of PNG, JPEG, GIF, WebP
//             (the Content-Security-Policy's img-src allows nothing else)
//
// Everything else (javascript:, vbscript:, data:text/html, blob:, file:, ...)
// is refused: safeUrl returns null and the caller leaves the attribute out.

const DATA_TYPES = {
  image: new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
  download: new Set(['text/csv', 'text/plain', 'text/tab-separated-values', 'application/json', 'application/octet-stream']),
  link: new Set(),
};

// The media type of a data: URL, lower case, without parameters.
function dataType(url) {
  const rest = url.href.slice('data:'.length);
  const comma = rest.indexOf(',');
  if (comma < 0) return '';
  return rest.slice(0, comma).split(';')[0].trim().toLowerCase();
}

// The URL to put in an href (kind "link" or "download") or an image's src
// (kind "image"), or null when value must not become one. base defaults to
// the document's base URL, the one the browser resolves the attribute with.
export function safeUrl(value, kind = 'link', base = document.baseURI) {
  if (typeof value !== 'string' || !Object.hasOwn(DATA_TYPES, kind)) return null;
  // Only spaces and control characters: the browser would resolve it to
  // this very page.
  if (/^[\u0000-\u0020]*$/.test(value)) return null;
  let url;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return kind !== 'image' || url.origin === new URL(base).origin ? url.href : null;
    case 'mailto:':
      return kind === 'link' ? url.href : null;
    case 'data:':
      return DATA_TYPES[kind].has(dataType(url)) ? url.href : null;
    default:
      return null;
  }
}
