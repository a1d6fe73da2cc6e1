// Lint configuration: typescript-eslint's type-checked rules over every
// TypeScript file the compiler sees (tsconfig.json), plus ESLint's own
// recommended rules. Formatting is Prettier's job (.prettierrc.json);
// eslint-config-prettier switches off the rules that would fight it.
// https://typescript-eslint.io/getting-started/typed-linting
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bench-results/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `const { omitted, ...rest } = value` is how a property is left out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    // Keep disableTypeChecked's parserOptions (no project service), which a bare languageOptions would replace.
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    // The conversation browser's bundle runs in the page (ui/tsconfig.json: DOM types).
    files: ["ui/src/**/*.ts"],
    languageOptions: { globals: globals.browser },
  },
  prettier,
);
