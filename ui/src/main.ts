/** The conversation browser's entry point (issue 21): mounts the app into `#app`. */
import { h, render } from "preact";

const root = document.getElementById("app");
if (root) render(h("p", null, "llm-relay"), root);
