// Opens Swagger UI in headless Chromium, uses "Try it out" on POST /api/v1/send with the given
// topic and key, executes it, and prints what the page showed as one JSON line:
//   {"status": "200", "body": "...", "outside": [...], "screenshot": "..."}
// Every request to another origin is blocked and listed in "outside": the page must need none.
//
//   node tests/browser/swagger-try-it-out.mjs BASE_URL TOPIC KEY SCREENSHOT.png
// A BASE_URL host ending in ".test" is resolved to 127.0.0.1 by Chromium itself: the page then
// runs as on a real host name, where Swagger UI would show its online validator badge if it
// were configured (on localhost it never does).
// Environment: CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const [base, topic, key, screenshot] = process.argv.slice(2);
if (!base || !topic || !key || !screenshot) {
  console.error("usage: swagger-try-it-out.mjs BASE_URL TOPIC KEY SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;
const host = new URL(base).hostname;
const resolve = host.endsWith(".test") ? [`--host-resolver-rules=MAP ${host} 127.0.0.1`] : [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", ...resolve],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const outside = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
    outside.push(url);
    return route.abort();
  });
  page.setDefaultTimeout(20000);

  await page.goto(`${base}/swagger-ui/`);
  const operation = page.locator("#operations-send-send");
  await operation.locator(".opblock-summary").click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  const body = JSON.stringify(
    { topic, key, message: "sent from Swagger UI", isIdempotent: true, isAsync: false },
    null,
    2,
  );
  await operation.locator("textarea.body-param__text").fill(body);
  await operation.getByRole("button", { name: "Execute" }).click();

  const live = operation.locator(".live-responses-table");
  const row = live.locator("tbody tr.response").first();
  await row.waitFor();
  const status = (await row.locator(".response-col_status").innerText()).trim();
  const answer = await row.locator(".response-col_description pre").first().innerText();
  await row.locator(".response-col_description pre").first().scrollIntoViewIfNeeded();
  await page.mouse.wheel(0, 250);
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(JSON.stringify({ status, body: answer, outside, screenshot }));
} finally {
  await browser.close();
}
