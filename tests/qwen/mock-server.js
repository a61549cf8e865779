#!/usr/bin/env node
// Scripted OpenAI-compatible model server for driving the real `qwen` CLI in
// tests. Node built-ins only. Listens on 127.0.0.1 only.
//
//   node mock-server.js --port-file FILE --script SCRIPT.json [--log FILE]
//                       [--dump-dir DIR]
//
// See README.md in this directory for the script format.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write(`mock-server: ${msg}\n`);
  process.stderr.write(
    'usage: node mock-server.js --port-file FILE --script SCRIPT.json ' +
      '[--log FILE] [--dump-dir DIR]\n');
  process.exit(2);
}

const opts = {};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--port-file' || k === '--script' || k === '--log' ||
        k === '--dump-dir') {
      if (i + 1 >= a.length) usage(`${k} needs a value`);
      opts[k.slice(2)] = a[++i];
    } else {
      usage(`unknown argument ${k}`);
    }
  }
  if (!opts['port-file']) usage('--port-file is required');
  if (!opts.script) usage('--script is required');
}

// ---------------------------------------------------------------- state
const stats = {requests: 0, max_concurrent: 0, in_flight: 0,
               chat_requests: 0, main_requests: 0, side_requests: 0,
               errors_sent: 0, hangs: 0};
const ruleCounters = new Map();   // key -> number of times the rule matched
const sockets = new Set();
let seq = 0;

function loadScript() {
  // Re-read on every request so tests can rewrite it between calls.
  let text;
  try {
    text = fs.readFileSync(opts.script, 'utf8');
  } catch (e) {
    return {rules: [], default: {reply: 'ok'}, _error: `read: ${e.message}`};
  }
  try {
    let s = JSON.parse(text);
    if (Array.isArray(s)) s = {rules: s};
    if (!s || typeof s !== 'object') throw new Error('not an object');
    if (!Array.isArray(s.rules)) s.rules = [];
    return s;
  } catch (e) {
    return {rules: [], default: {reply: 'ok'}, _error: `parse: ${e.message}`};
  }
}

function logLine(obj) {
  if (!opts.log) return;
  try {
    fs.appendFileSync(opts.log, JSON.stringify(obj) + '\n');
  } catch (e) { /* ignore */ }
}

// ---------------------------------------------------------------- request analysis
function contentText(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => {
      if (typeof p === 'string') return p;
      if (p && typeof p.text === 'string') return p.text;
      return '';
    }).join('\n');
  }
  if (typeof content === 'object' && typeof content.text === 'string') {
    return content.text;
  }
  return '';
}

const DEFAULT_MAIN_PREFIX = 'You are Qwen Code';

function analyse(body, script) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let lastUserIdx = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i] && messages[i].role === 'user') { lastUserIdx = i; break; }
  }
  const last = messages.length ? messages[messages.length - 1] : null;
  const userText = lastUserIdx >= 0 ? contentText(messages[lastUserIdx].content) : '';
  // Depth = number of assistant tool-call turns after the last user message:
  // 0 for a fresh prompt, 1 after the first tool result came back, ...
  let depth = 0;
  for (let i = lastUserIdx + 1; i < messages.length; i++) {
    const m = messages[i];
    if (m && m.role === 'assistant' && Array.isArray(m.tool_calls) &&
        m.tool_calls.length) depth++;
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const toolNames = tools.map((t) => (t && t.function && t.function.name) || '')
      .filter(Boolean);
  const systemText = messages.filter((m) => m && m.role === 'system')
      .map((m) => contentText(m.content)).join('\n');
  // "main" = the agent's own turn: its system prompt starts with "You are
  // Qwen Code". "side" = qwen's internal calls (managed-memory extractor,
  // next-speaker check, titles, compression, ...), which have other system
  // prompts even though some of them also offer tools.
  const prefix = (script && script.main_system_prefix) || DEFAULT_MAIN_PREFIX;
  const kind = systemText.trimStart().startsWith(prefix) ? 'main' : 'side';
  return {
    messages, last, lastRole: last ? last.role : null,
    lastText: last ? contentText(last.content) : '',
    userText, depth, toolNames, systemText, kind,
    system: excerpt(systemText, 60),
  };
}

function ruleMatches(rule, a) {
  if (!rule || typeof rule !== 'object') return false;
  const kind = rule.kind || 'main';
  if (kind !== 'any' && kind !== a.kind) return false;
  if (rule.role && rule.role !== a.lastRole) return false;
  if (rule.match != null && !a.userText.includes(String(rule.match))) return false;
  if (rule.regex != null) {
    let re;
    try { re = new RegExp(rule.regex, rule.flags || ''); } catch (e) { return false; }
    if (!re.test(a.userText)) return false;
  }
  if (rule.last_match != null && !a.lastText.includes(String(rule.last_match))) {
    return false;
  }
  if (rule.system_match != null &&
      !a.systemText.includes(String(rule.system_match))) return false;
  if (rule.depth != null && rule.depth !== a.depth) return false;
  return true;
}

// Follow a rule's `then` chain `depth` steps (a tool-call rule's answer to the
// tool result is its `then`). A string step is shorthand for {reply: string}.
function stepFor(rule, depth) {
  let step = rule;
  for (let i = 0; i < depth; i++) {
    if (step && typeof step === 'object' && step.then !== undefined) {
      step = step.then;
    } else if (step && typeof step === 'object' && (step.tool_call || step.tool_calls)) {
      // tool-call rule without explicit then: default final text
      step = {reply: 'done'};
    } else {
      break;   // text rule: keep answering with it
    }
  }
  if (typeof step === 'string') step = {reply: step};
  return step || {reply: 'ok'};
}

// ---------------------------------------------------------------- responses
function usageFor(a, text) {
  const prompt = Math.max(1, Math.ceil(JSON.stringify(a.messages).length / 4));
  const completion = Math.max(1, Math.ceil((text || '').length / 4));
  return {prompt_tokens: prompt, completion_tokens: completion,
          total_tokens: prompt + completion};
}

function toolCallsOf(step, id) {
  let list = step.tool_calls || step.tool_call;
  if (!Array.isArray(list)) list = [list];
  return list.map((tc, i) => {
    let name = 'run_shell_command';
    let args;
    if (typeof tc === 'string') {
      args = {command: tc, description: 'scripted command', is_background: false};
    } else {
      name = tc.name || name;
      args = tc.arguments || {command: tc.command,
                              description: tc.description || 'scripted command',
                              is_background: !!tc.is_background};
    }
    return {id: `call_${id}_${i}`, type: 'function',
            function: {name, arguments: typeof args === 'string' ? args : JSON.stringify(args)}};
  });
}

function sendJSON(res, status, obj, extraHeaders) {
  const data = JSON.stringify(obj);
  res.writeHead(status, Object.assign({
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
  }, extraHeaders || {}));
  res.end(data);
}

function sendError(res, err) {
  const status = err.status || 500;
  const body = err.body || {error: {
    message: err.message || (status === 429
      ? 'Rate limit reached for requests (mock)'
      : `mock error ${status}`),
    type: err.type || (status === 429 ? 'rate_limit_exceeded' : 'server_error'),
    param: null,
    code: err.code || (status === 429 ? 'rate_limit_exceeded' : null),
  }};
  const headers = {};
  if (err.retry_after != null) headers['retry-after'] = String(err.retry_after);
  sendJSON(res, status, body, headers);
}

function answer(res, body, a, step, id, done) {
  const model = body.model || 'mock';
  const created = Math.floor(Date.now() / 1000);
  const chatId = `chatcmpl-mock-${id}`;
  const isTool = !!(step.tool_call || step.tool_calls);
  const text = isTool ? (step.text || '') : String(step.reply != null ? step.reply : 'ok');
  const toolCalls = isTool ? toolCallsOf(step, id) : null;
  const finish = isTool ? 'tool_calls' : 'stop';
  const usage = usageFor(a, text + (toolCalls ? JSON.stringify(toolCalls) : ''));

  if (!body.stream) {
    const message = {role: 'assistant', content: text || (isTool ? null : '')};
    if (toolCalls) message.tool_calls = toolCalls;
    sendJSON(res, 200, {id: chatId, object: 'chat.completion', created, model,
                        choices: [{index: 0, message, finish_reason: finish}],
                        usage});
    return done(200);
  }

  res.writeHead(200, {'content-type': 'text/event-stream',
                      'cache-control': 'no-cache', connection: 'keep-alive'});
  const chunk = (delta, finishReason, extra) => {
    const o = {id: chatId, object: 'chat.completion.chunk', created, model,
               choices: [{index: 0, delta, finish_reason: finishReason}]};
    if (extra) Object.assign(o, extra);
    res.write(`data: ${JSON.stringify(o)}\n\n`);
  };
  chunk({role: 'assistant', content: ''}, null);
  if (step.stall) {       // headers + first chunk, then silence forever
    stats.hangs++;
    logLine({id, event: 'stall', status: 'stall'});
    // stays in flight until the client gives up ("client-closed" in the log)
    return;
  }
  if (text) {
    // split in a few pieces to exercise the client's stream assembly
    const n = Math.min(3, text.length);
    const size = Math.ceil(text.length / n);
    for (let i = 0; i < text.length; i += size) chunk({content: text.slice(i, i + size)}, null);
  }
  if (toolCalls) {
    toolCalls.forEach((tc, i) => {
      chunk({tool_calls: [{index: i, id: tc.id, type: 'function',
                           function: {name: tc.function.name, arguments: ''}}]}, null);
      chunk({tool_calls: [{index: i, function: {arguments: tc.function.arguments}}]}, null);
    });
  }
  chunk({}, finish);
  // usage chunk (stream_options.include_usage style)
  res.write(`data: ${JSON.stringify({id: chatId, object: 'chat.completion.chunk',
                                     created, model, choices: [], usage})}\n\n`);
  res.write('data: [DONE]\n\n');
  res.end();
  return done(200);
}

// ---------------------------------------------------------------- server
function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function excerpt(s, n) {
  s = String(s || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? s.slice(0, n) + '...' : s;
}

async function handleChat(req, res, id, entry, finish) {
  const raw = await readBody(req);
  let body;
  try { body = JSON.parse(raw || '{}'); } catch (e) {
    sendJSON(res, 400, {error: {message: 'invalid JSON', type: 'invalid_request_error'}});
    return finish(400);
  }
  if (opts['dump-dir']) {
    try {
      fs.mkdirSync(opts['dump-dir'], {recursive: true});
      fs.writeFileSync(path.join(opts['dump-dir'], `req-${String(id).padStart(4, '0')}.json`),
                       JSON.stringify(body, null, 2));
    } catch (e) { /* ignore */ }
  }
  stats.chat_requests++;
  const script = loadScript();
  const a = analyse(body, script);
  if (a.kind === 'main') stats.main_requests++; else stats.side_requests++;
  Object.assign(entry, {kind: a.kind, stream: !!body.stream, model: body.model,
                        last_role: a.lastRole, depth: a.depth,
                        user: excerpt(a.userText, 120)});
  if (a.kind === 'side') entry.system = a.system;
  if (script._error) entry.script_error = script._error;
  let rule = null;
  let ruleKey = 'default';
  for (let i = 0; i < script.rules.length; i++) {
    const r = script.rules[i];
    const key = r.id != null ? `id:${r.id}` : `rule:${JSON.stringify(r)}`;
    // max_matches: the rule answers its first N matches, then steps aside
    if (r.max_matches != null && (ruleCounters.get(key) || 0) >= r.max_matches) continue;
    if (ruleMatches(r, a)) {
      rule = r;
      ruleKey = key;
      entry.rule = rule.id != null ? rule.id : i;
      break;
    }
  }
  if (!rule) {
    // Fallback for unmatched requests, including qwen's internal side calls.
    rule = (a.kind === 'side' ? script.side_default : null) ||
           script.default || {reply: 'ok'};
    if (typeof rule === 'string') rule = {reply: rule};
    entry.rule = 'default';
  }
  const count = (ruleCounters.get(ruleKey) || 0) + 1;
  ruleCounters.set(ruleKey, count);
  entry.match_count = count;

  const step = stepFor(rule, a.depth);

  if (step.error) {
    const err = typeof step.error === 'number' ? {status: step.error} : step.error;
    const times = err.times == null ? Infinity : err.times;
    if (count <= times) {
      const delay = err.delay_ms || 0;
      if (delay) await new Promise((r) => setTimeout(r, delay));
      stats.errors_sent++;
      sendError(res, err);
      return finish(err.status || 500);
    }
  }
  if (step.hang) {
    stats.hangs++;
    entry.status = 'hang';
    logLine(Object.assign({}, entry, {event: 'hang'}));
    // Never answer; the request stays in flight until the client gives up.
    res.on('close', () => finish('hang-closed'));
    return;
  }
  if (step.delay_ms) await new Promise((r) => setTimeout(r, step.delay_ms));
  if (res.destroyed || res.writableEnded) return finish('client-gone');
  return answer(res, body, a, step, id, finish);
}

const server = http.createServer((req, res) => {
  const id = ++seq;
  const url = (req.url || '/').split('?')[0];
  // /stats and /reset are the test's own calls: not counted, not logged.
  const tracked = url !== '/stats' && url !== '/reset';
  if (tracked) {
    stats.requests++;
    stats.in_flight++;
    if (stats.in_flight > stats.max_concurrent) stats.max_concurrent = stats.in_flight;
  }
  const entry = {id, t: new Date().toISOString(), method: req.method, path: url};
  let finished = false;
  const finish = (status, note) => {
    if (finished || !tracked) return;
    finished = true;
    stats.in_flight--;
    entry.status = status;
    if (note) entry.note = note;
    entry.ms = Date.now() - Date.parse(entry.t);
    logLine(entry);
  };
  res.on('close', () => { if (!finished && entry.status !== 'hang') finish('client-closed'); });

  if (req.method === 'GET' && url === '/stats') {
    sendJSON(res, 200, Object.assign({}, stats, {in_flight: stats.in_flight}));
    return;
  }
  if (req.method === 'POST' && url === '/reset') {
    ruleCounters.clear();
    stats.requests = 0; stats.max_concurrent = stats.in_flight;
    stats.chat_requests = stats.main_requests = stats.side_requests = 0;
    stats.errors_sent = 0; stats.hangs = 0;
    sendJSON(res, 200, {ok: true});
    return;
  }
  if (req.method === 'GET' && (url === '/v1/models' || url === '/models')) {
    sendJSON(res, 200, {object: 'list', data: [
      {id: 'mock', object: 'model', created: 0, owned_by: 'mock'}]});
    return finish(200);
  }
  if (req.method === 'POST' &&
      (url === '/v1/chat/completions' || url === '/chat/completions')) {
    handleChat(req, res, id, entry, finish).catch((e) => {
      try { sendJSON(res, 500, {error: {message: String(e), type: 'server_error'}}); } catch (_) {}
      finish(500, String(e));
    });
    return;
  }
  readBody(req).then(() => {
    sendJSON(res, 404, {error: {message: `mock: no route ${req.method} ${url}`,
                                type: 'invalid_request_error'}});
    finish(404);
  });
});

server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

function shutdown() {
  server.close(() => process.exit(0));
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const pf = opts['port-file'];
  const tmp = `${pf}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, pf);
});
