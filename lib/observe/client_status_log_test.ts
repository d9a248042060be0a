import assert from "node:assert/strict";
import { describeStatus, onClientStatus, reportClientStatus } from "./client_status_log.ts";
import { Metrics } from "./metrics.ts";

Deno.test("each status event is one line with the command's prefix and a count by event", () => {
  const metrics = new Metrics("consume");
  const lines: string[] = [];
  reportClientStatus("consume", metrics, (line) => lines.push(`edgepipe consume: ${line}`));
  // All three counters are there from the start, at 0.
  for (const event of ["reconnecting", "reconnected", "gave-up"]) {
    assert.ok(
      metrics.render().includes(
        `edgepipe_client_status_total{command="consume",event="${event}"} 0`,
      ),
      event,
    );
  }
  onClientStatus({
    type: "reconnecting",
    topic: "t",
    attempt: 3,
    delayMs: 1250,
    error: new Error("connection refused"),
  });
  onClientStatus({ type: "reconnected", topic: "t", afterMs: 4049, attempts: 3 });
  onClientStatus({ type: "gave-up", topic: "t", error: new Error("topic deleted") });
  onClientStatus({ type: "reconnected", topic: "u", afterMs: 12, attempts: 1 });
  assert.deepEqual(lines, [
    "edgepipe consume: reconnecting to t (attempt 3, in 1.3 s): connection refused",
    "edgepipe consume: reconnected to t after 4 s (3 attempts)",
    "edgepipe consume: gave up reconnecting to t: topic deleted",
    "edgepipe consume: reconnected to u after 0 s (1 attempt)",
  ]);
  const text = metrics.render();
  assert.ok(
    text.includes('edgepipe_client_status_total{command="consume",event="reconnecting"} 1'),
  );
  assert.ok(text.includes('edgepipe_client_status_total{command="consume",event="reconnected"} 2'));
  assert.ok(text.includes('edgepipe_client_status_total{command="consume",event="gave-up"} 1'));
});

Deno.test("a cause is said after the error", () => {
  const error = new Error("lookup failed", { cause: new Error("connection refused") });
  assert.equal(
    describeStatus({ type: "gave-up", topic: "t", error }),
    "gave up reconnecting to t: lookup failed: connection refused",
  );
});
