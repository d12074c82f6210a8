/** Types of `env` and `exports` from "cloudflare:workers" inside the tests. */
type DurableThreadsEnv = import("../src/env.ts").Env;
declare namespace Cloudflare {
  interface Env extends DurableThreadsEnv {}
  interface GlobalProps {
    mainModule: typeof import("../src/index.ts");
    durableNamespaces: "ThreadObject" | "DirectoryObject";
  }
}
