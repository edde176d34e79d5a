// Loads Chrome trace files into speedscope's own importer, in headless Chromium, and fails on
// an import error or a stack-order warning. Run by scripts/check-trace-viewers, from the
// directory where speedscope and playwright-core are installed:
//   node check-trace-viewers.mjs SPEEDSCOPE_RELEASE_DIR FILE...
// Prints one line per file and exits 1 if any file failed.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const [releaseDir, ...files] = process.argv.slice(2);
if (!releaseDir || files.length === 0) {
    console.error('usage: node check-trace-viewers.mjs SPEEDSCOPE_RELEASE_DIR FILE...');
    process.exit(2);
}

// What speedscope's trace importer says (console.warn) when slices do not nest: found in
// node_modules/speedscope/dist/release/speedscope-*.js.
const stackWarnings = [
    /Tried to end .* was on the top of the stack/,
    /Tried to end frame .* but the stack was empty/,
    /was still open at end of profile/,
    /out of order/i,
];

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
    '.json': 'application/json', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file;
    if (url.pathname.startsWith('/trace/'))
        file = files[Number(url.pathname.slice('/trace/'.length))];
    else
        file = path.join(releaseDir, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    fs.readFile(file ?? '', (err, data) => {
        if (err) { res.writeHead(404); res.end(); return; }
        res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
        res.end(data);
    });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
let failed = 0;
for (let i = 0; i < files.length; ++i) {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (msg) => {
        const text = msg.text();
        if (msg.type() === 'error' || text.startsWith('Failed to load format')
            || stackWarnings.some((re) => re.test(text)))
            problems.push(`${msg.type()}: ${text}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('dialog', async (dialog) => { problems.push(`alert: ${dialog.message()}`); await dialog.dismiss(); });
    const profileURL = `http://127.0.0.1:${port}/trace/${i}`;
    await page.goto(`http://127.0.0.1:${port}/index.html#profileURL=${encodeURIComponent(profileURL)}`);
    // speedscope sets the title to "<name> - speedscope" once the profile is imported.
    let loaded = true;
    try {
        await page.waitForFunction(() => / - speedscope$/.test(document.title), null, { timeout: 60000 });
    } catch (e) {
        loaded = false;
    }
    if (!loaded && problems.length === 0)
        problems.push('speedscope did not finish importing within 60 s');
    if (problems.length > 0) {
        ++failed;
        const shown = problems.slice(0, 5).join('\n    ');
        console.log(`FAIL ${files[i]}: ${problems.length} problem(s)\n    ${shown}`);
    } else {
        console.log(`ok   ${files[i]}: imported by speedscope without warnings (${await page.title()})`);
    }
    await page.close();
}
await browser.close();
server.close();
process.exit(failed ? 1 : 0);
