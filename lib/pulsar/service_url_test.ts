import assert from "node:assert/strict";
import { InvalidArgumentError } from "./errors.ts";
import { parseServiceUrls } from "./service_url.ts";

Deno.test("multi-host service URLs: each host with its port or the scheme's default", () => {
  assert.deepEqual(parseServiceUrls("pulsar://h1:6650,h2:7650,h3"), {
    tls: false,
    urls: ["pulsar://h1:6650", "pulsar://h2:7650", "pulsar://h3:6650"],
  });
  assert.deepEqual(parseServiceUrls(" pulsar+ssl://a.example.com, [::1]:7/ "), {
    tls: true,
    urls: ["pulsar+ssl://a.example.com:6651", "pulsar+ssl://[::1]:7"],
  });
  assert.deepEqual(parseServiceUrls("pulsar://h").urls, ["pulsar://h:6650"]);
});

Deno.test("malformed multi-host service URLs: one line saying what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["http://h1,h2", /'http:\/\/h1,h2' is not a pulsar:\/\/ or pulsar\+ssl:\/\/ URL/],
    ["pulsar://", /names no host/],
    ["pulsar://h1:6650,,h2", /empty host at position 2/],
    ["pulsar://h1:6650,", /empty host at position 2/],
    ["pulsar://h1:66x", /'h1:66x' is not host\[:port\]/],
    ["pulsar://h1:70000", /'h1:70000' is not host\[:port\]/],
    ["pulsar://h1,pulsar://h2", /'pulsar:' is not host\[:port\]|is not host/],
    ["pulsar://h1/path", /is not host\[:port\]/],
  ];
  for (const [url, message] of cases) {
    assert.throws(() => parseServiceUrls(url), InvalidArgumentError, url);
    assert.throws(() => parseServiceUrls(url), message, url);
  }
});
