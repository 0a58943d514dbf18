import { defineConfig } from "vitest/config";

// npm run test:engine: the real Pulumi engine against real daemons (tests/lifecycle). Not part of the
// README's test command: CI here cannot have the provider plugins (see docs/testing.md, "The real engine").
export default defineConfig({
  test: {
    include: ["tests/lifecycle/**/*.test.ts"],
    fileParallelism: false,
    pool: "forks",
    testTimeout: 600_000,
    hookTimeout: 900_000,
    reporters: ["default"],
  },
});
