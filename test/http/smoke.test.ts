import { exports } from "cloudflare:workers";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("smoke", () => {
  it("dir", async () => {
    const d = env.DIRECTORY.get(env.DIRECTORY.idFromName("x"));
    console.log("dir list", JSON.stringify(await d.list({})));
  });
  it("thread get", async () => {
    const d = env.THREADS.get(env.THREADS.idFromName("x"));
    console.log("get", JSON.stringify(await d.get()));
  });
  it("404 route", async () => {
    const r = await exports.default.fetch("http://x/v1/nope");
    console.log(r.status, await r.text());
  });
  it("creates a thread and runs a turn with dev/echo", async () => {
    const r = await exports.default.fetch("http://x/v1/threads", { method: "POST", body: JSON.stringify({ id: "t1" }) });
    expect(r.status).toBe(201);
    const t = await exports.default.fetch("http://x/v1/threads/t1/turns", { method: "POST", body: JSON.stringify({ input: "hi" }) });
    const body = await t.json();
    expect(body).toMatchObject({ status: "completed" });
    console.log(JSON.stringify(body));
  });
});
