// A delivering process the test can kill -9: deliverEvents for WORKDIR with notifier argv.
import { nullLog } from "../../src/log.ts";
import { deliverEvents } from "../../src/events/deliver.ts";
import { eventsConfig } from "./fixtures.ts";

const [workDir, ...command] = process.argv.slice(2);
const outcome = await deliverEvents(eventsConfig(workDir!, command), nullLog);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
