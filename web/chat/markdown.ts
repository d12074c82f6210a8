/**
 * Message text to safe HTML. marked renders Markdown; raw HTML in a message is
 * never HTML (it is escaped, so `<img onerror=…>` shows as text), links and
 * images keep only http(s), mailto and same-site URLs (a `javascript:` link
 * shows as its source text), and DOMPurify sanitizes the result as a second
 * line of defence before it reaches innerHTML.
 */
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** Whether a URL from a message may become a link: http(s), mailto, or relative to this site. */
function safeUrl(href: string): boolean {
  try {
    const url = new URL(href, location.href);
    return ["http:", "https:", "mailto:"].includes(url.protocol);
  } catch {
    return false;
  }
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html: ({ text }: Tokens.HTML | Tokens.Tag) => escapeHtml(text),
    link(token: Tokens.Link) {
      if (!safeUrl(token.href)) return escapeHtml(token.raw);
      const inner = this.parser.parseInline(token.tokens);
      return `<a href="${escapeHtml(token.href)}" rel="noopener noreferrer nofollow" target="_blank">${inner}</a>`;
    },
    // Images would load from anywhere the text says (a tracking pixel): shown as links instead.
    image(token: Tokens.Image) {
      if (!safeUrl(token.href)) return escapeHtml(token.raw);
      return `<a href="${escapeHtml(token.href)}" rel="noopener noreferrer nofollow" target="_blank">${escapeHtml(token.text || token.href)}</a>`;
    },
  },
});

/** Renders Markdown as sanitized HTML, safe for innerHTML. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "img", "form", "input"], ADD_ATTR: ["target"] });
}
