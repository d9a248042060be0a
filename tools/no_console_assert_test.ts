import assert from "node:assert/strict";
import { findConsoleAsserts } from "./no_console_assert.ts";

const SCRIPT = new URL("./no_console_assert.ts", import.meta.url).pathname;
// Spelled in pieces so that this file passes its own check.
const CALL = "console" + ".assert";

async function runCheck(root: string): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, root],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("the check fails on a doc example that asserts with console's assert, naming the line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/lib`);
    await Deno.writeTextFile(
      `${dir}/lib/sum.ts`,
      [
        "/**",
        " * @example",
        " * ```ts",
        ' * import { sum } from "./sum.ts";',
        ` * ${CALL}(sum(1, 1) === 3);`,
        " * ```",
        " */",
        "export function sum(a: number, b: number): number {",
        "  return a + b;",
        "}",
        "",
      ].join("\n"),
    );
    const { code, stderr } = await runCheck(dir);
    assert.equal(code, 1);
    assert.match(stderr, /lib\/sum\.ts:5: \* console\.assert\(sum\(1, 1\) === 3\);/);
    assert.match(stderr, /1 use\(s\) of console's assert/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the check passes a tree without it and skips node_modules", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/node_modules/pkg`, { recursive: true });
    await Deno.writeTextFile(`${dir}/node_modules/pkg/index.js`, `${CALL}(true);\n`);
    await Deno.writeTextFile(`${dir}/ok.ts`, 'import assert from "node:assert/strict";\n');
    const { code, stderr } = await runCheck(dir);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every spelling of the call is found, in code, comments and Markdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.ts`,
      [
        `${CALL}(1 === 2);`,
        `${CALL.replace(".", " . ")} (false);`,
        `${CALL}.call(console, false);`,
        `const check = ${CALL};`,
        `[1].forEach(${CALL});`,
        "",
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/b.md`,
      "Never use `" + CALL + "`: it only prints.\n```ts\n" +
        `${CALL.replace(".assert", '["assert"]')}(false);\n` + "```\n",
    );
    await Deno.writeTextFile(`${dir}/c.ts`, "const no_console_assert = 1;\nconsole.log(1);\n");
    const found = await findConsoleAsserts([dir]);
    assert.deepEqual(
      found.map((use) => `${use.path.split("/").at(-1)}:${use.line}`),
      ["a.ts:1", "a.ts:2", "a.ts:3", "a.ts:4", "a.ts:5", "b.md:3"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("this repository has none", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const found = await findConsoleAsserts([root]);
  assert.deepEqual(found, []);
});
