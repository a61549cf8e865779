// client.js - drives `squad mcp` with the official MCP TypeScript SDK
// client (npm @modelcontextprotocol/sdk, found through NODE_PATH; see
// tests/mcp/install.sh), for tests/e2e/mcp.bats.
//
//   node client.js SCENARIO [ARG...]
//
// The server is $SQUAD mcp, started by the SDK's stdio transport in the
// current folder. Each scenario prints one JSON document on stdout, for
// the test to assert on with jq:
//   session               initialize and tools/list: the negotiated
//                         version, server info, tools (each input schema
//                         compiled by Ajv, the SDK's own validator)
//   call NAME ARGS        one tools/call with a progress token: the result
//                         and the progress notifications seen
//   parallel ARGS1 ARGS2  two exec calls at once: both results
//   cancel ARGS FILE      a run call, cancelled once FILE exists (the
//                         client's AbortSignal: notifications/cancelled);
//                         then the status tool and list, to show the
//                         server still serves and runs nothing
//   vanish ARGS FILE      a run call; once FILE exists, print the
//                         server's pid and exit without a word (the
//                         server is left with its stdin closed)
'use strict';

const fs = require('fs');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const squad = process.env.SQUAD;
if (!squad) {
  console.error('client.js: set SQUAD to the squad binary');
  process.exit(2);
}

async function connect() {
  const transport = new StdioClientTransport({
    command: squad,
    args: ['mcp'],
    cwd: process.cwd(),
    env: process.env,
    stderr: 'inherit',
  });
  // the SDK tells a transport the version initialize settled on
  transport.setProtocolVersion = (v) => { transport.negotiated = v; };
  const client = new Client({ name: 'squad-e2e', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  // Progress as the server sent it, read off the wire: the SDK hands a
  // notification to onprogress a microtask late, and drops it when the
  // result came in the same read (it forgets the token on the result).
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === 'notifications/progress') {
      const { progressToken, ...params } = message.params;
      wireProgress.push(params);
    }
    deliver(message, extra);
  };
  return { client, transport };
}

const wireProgress = [];

function waitForFile(file, seconds) {
  return new Promise((resolve, reject) => {
    const until = Date.now() + seconds * 1000;
    const poll = () => {
      if (fs.existsSync(file)) return resolve();
      if (Date.now() > until) return reject(new Error(`${file} never appeared`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

// one call at a time: the progress on the wire is this call's
async function call(client, name, args, extra) {
  wireProgress.length = 0;
  const result = await client.callTool({ name, arguments: args }, undefined, {
    onprogress: () => {}, // asks the server for progress
    timeout: 120000,
    ...extra,
  });
  return { result, progress: wireProgress.slice() };
}

async function main() {
  const [scenario, ...rest] = process.argv.slice(2);
  const { client, transport } = await connect();
  let out;

  switch (scenario) {
  case 'session': {
    const Ajv = require('ajv');
    const ajv = new Ajv({ strict: false });
    const { tools } = await client.listTools();
    out = {
      protocolVersion: transport.negotiated,
      server: client.getServerVersion(),
      capabilities: client.getServerCapabilities(),
      instructions: client.getInstructions(),
      tools: tools.map((t) => {
        const validate = ajv.compile(t.inputSchema);
        return {
          name: t.name,
          description: t.description,
          type: t.inputSchema.type,
          required: t.inputSchema.required || [],
          readOnly: t.annotations && t.annotations.readOnlyHint,
          acceptsEmpty: validate({}),
        };
      }),
    };
    break;
  }
  case 'call':
    out = await call(client, rest[0], JSON.parse(rest[1] || '{}'));
    break;
  case 'parallel': {
    const [a, b] = await Promise.all([
      call(client, 'exec', JSON.parse(rest[0])),
      call(client, 'exec', JSON.parse(rest[1])),
    ]);
    out = { first: a.result, second: b.result };
    break;
  }
  case 'cancel': {
    const abort = new AbortController();
    const progress = [];
    const pending = client.callTool({ name: 'run', arguments: JSON.parse(rest[0]) },
      undefined, { signal: abort.signal, onprogress: (p) => progress.push(p),
        timeout: 120000 });
    let error = null;
    pending.catch(() => {});
    await waitForFile(rest[1], 60);
    abort.abort('the test cancels the run');
    try {
      await pending;
    } catch (e) {
      error = String(e && e.message || e);
    }
    // the server still serves; its run call ends once squad has stopped
    let status;
    for (let i = 0; i < 600; i++) {
      status = (await call(client, 'status', {})).result.structuredContent;
      if (status.calls.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const list = (await call(client, 'list', {})).result;
    out = { error, progress, status, listError: !!list.isError,
            tasks: list.structuredContent.tasks.map((t) => t.name) };
    break;
  }
  case 'vanish': {
    client.callTool({ name: 'run', arguments: JSON.parse(rest[0]) }, undefined,
      { timeout: 120000 }).catch(() => {});
    await waitForFile(rest[1], 60);
    process.stdout.write(JSON.stringify({ server_pid: transport.pid }) + '\n', () =>
      process.exit(0));
    return;
  }
  default:
    console.error(`client.js: no scenario '${scenario}'`);
    process.exit(2);
  }
  await client.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  console.error(`client.js: ${e && e.stack || e}`);
  process.exit(1);
});
