/**
 * Chart.js with only the bar chart's parts registered. Imported lazily by the bar chart (its own bundle chunk,
 * loaded from `/ui/chunks/` when the Usage page first draws), so the other pages do not load it.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export { Chart };
