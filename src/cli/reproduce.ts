import type { Command } from "./command.js";

export const command: Command = {
  summary: "(not yet available)",
  help: "fulcra reproduce: not yet available in this version.",
  async run() {
    console.error("fulcra reproduce: not yet available in this version.");
    return 1;
  },
};
