/**
 * Builds what the Worker serves as static assets (dist/web: the chat page at /
 * and the API reference at /docs) and the client library's JavaScript entry
 * (dist/client). esbuild bundles everything from node_modules, so the pages
 * load nothing from elsewhere at run time. Run by `npm run build`, which
 * `npm run dev`, `npm test` and `npm run deploy` run first.
 */
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const out = `${root}dist/web/`;

// Files are overwritten in place, never removed first: a running dev server or test may be reading them.
await mkdir(`${out}docs`, { recursive: true });

await build({
  entryPoints: { chat: `${root}web/chat/main.ts` },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});

await build({
  entryPoints: { index: `${root}src/client/index.ts` },
  outdir: `${root}dist/client/`,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  // A dependency of the package: resolved from node_modules by whoever imports the client.
  external: ["partysocket"],
  logLevel: "warning",
});

await Promise.all([
  copyFile(`${root}web/index.html`, `${out}index.html`),
  copyFile(`${root}web/chat.css`, `${out}chat.css`),
  // docs.html is served at /docs (html_handling "auto-trailing-slash"), without a redirect.
  copyFile(`${root}web/docs/index.html`, `${out}docs.html`),
  copyFile(`${root}web/docs/init.js`, `${out}docs/init.js`),
  copyFile(`${root}node_modules/@scalar/api-reference/dist/browser/standalone.js`, `${out}docs/scalar.js`),
]);
console.log("built dist/web and dist/client");
