/** The parts of one thread object that its operation modules (messages, conversations, turn calls, responses) share. */
import type { Env } from "../env.ts";
import type { Settings } from "../settings.ts";
import type { Upstream } from "../upstream/client.ts";
import type { EventLog } from "./events.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Retention } from "./retention.ts";
import type { ThreadStore } from "./store.ts";
import type { TurnRunner } from "./turns.ts";

export interface ThreadParts {
  ctx: DurableObjectState;
  env: Env;
  /** This deployment's settings, parsed once. */
  settings: Settings;
  store: ThreadStore;
  events: EventLog;
  turns: TurnRunner;
  life: Lifecycle;
  retention: Retention;
  /** The upstream client, built on first use. */
  upstream(): Upstream;
  /** Checks the tenant's TURN_LIMIT before a turn starts (429 when its turns for this period are used up). */
  admit(tenant: string): Promise<void>;
}
