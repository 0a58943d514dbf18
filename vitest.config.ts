import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The engine lifecycle suite needs provider plugins: npm run test:engine (vitest.engine.config.ts).
    exclude: ["tests/lifecycle/**", "**/node_modules/**"],
    // Real-lab files share the machine's kernel (namespaces, daemons): run files one at a time.
    fileParallelism: false,
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
