/**
 * Aider's "file listing" answer format (the `whole` edit format; its
 * prompt is in ../shared/fixtures/aider-chat-request.json): each file is
 * given as
 *
 *     path/to/filename.js
 *     ```
 *     // entire file content ...
 *     ```
 *
 * — first line the file name with its path and nothing else, second line
 * the opening fence, then the content, then a closing fence.
 */

/** A file name with its path: no spaces or markup, at least one letter or digit. */
const PATH_LINE = /^(?=.*[\p{L}\p{N}])[\p{L}\p{N}_.\-/\\]+$/u;
const FENCE = /^```[\w+-]*\s*$/;

/** What {@link parseFileListings} found. */
export interface FileListingParse {
  /** The paths of the well-formed listings, in order. */
  paths: string[];
  /** The first problem, or null when every fenced block is a well-formed listing. */
  problem: string | null;
}

/**
 * Finds the file listings of an answer. Every fenced block must be a
 * listing: preceded by a path line and closed by a fence.
 */
export function parseFileListings(text: string): FileListingParse {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const paths: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!.trimEnd())) continue;
    const previous = i > 0 ? lines[i - 1]!.trim() : "";
    if (!PATH_LINE.test(previous)) {
      return {
        paths,
        problem: `the fenced block at line ${i + 1} is not preceded by a file name line${previous ? ` (found '${previous.slice(0, 60)}')` : ""}`,
      };
    }
    let close = i + 1;
    while (close < lines.length && lines[close]!.trimEnd() !== "```") close++;
    if (close >= lines.length)
      return { paths, problem: `the fenced block of ${previous} (line ${i + 1}) is never closed` };
    paths.push(previous);
    i = close;
  }
  return { paths, problem: paths.length === 0 ? "no file listing (a path line followed by a fenced block)" : null };
}
