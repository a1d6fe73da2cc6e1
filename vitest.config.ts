import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Checks PostgreSQL, Redis and Chromium once and stops the run with one message if any is missing.
    globalSetup: ["test/global-setup.ts"],
    // Removes the temp directories a test file made with tempDir() and left behind.
    setupFiles: ["test/setup-temp-dirs.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file starts its own servers on ephemeral loopback ports.
    pool: "forks",
  },
});
