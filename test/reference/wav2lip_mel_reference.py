#!/usr/bin/python3
"""Independent, slow and plain reference of Wav2Lip's audio front end under librosa 0.7.0.

Written from the formulas (wav2lip.md section 3/4), not from the gateway's TypeScript:
numpy.pad(mode='reflect') centring, numpy.fft.rfft, a Slaney mel filterbank built from the
mel-scale definition, and the original chunking loop. Used only by the tests.

Usage:
  wav2lip_mel_reference.py mel IN.f32 OUT.npy         # raw float32 16 kHz mono PCM -> [80,T] float32
  wav2lip_mel_reference.py wav IN.wav OUT.f32         # PCM-16 wav -> int/32768 float32, channels averaged
  wav2lip_mel_reference.py windows T FPS              # JSON: original loop starts and gateway starts
  wav2lip_mel_reference.py filterbank OUT.npy         # the [80,401] float32 filterbank
"""
import json
import math
import sys

import numpy as np

SR, N_FFT, HOP, WIN, N_MELS, FMIN, FMAX = 16000, 800, 200, 800, 80, 55.0, 7600.0


def hz_to_mel(f):
    # Slaney: linear 0..1000 Hz at 200/3 Hz per mel, then log steps of ln(6.4)/27
    f = float(f)
    if f < 1000.0:
        return f / (200.0 / 3.0)
    return 15.0 + math.log(f / 1000.0) / (math.log(6.4) / 27.0)


def mel_to_hz(m):
    m = float(m)
    if m < 15.0:
        return m * (200.0 / 3.0)
    return 1000.0 * math.exp((math.log(6.4) / 27.0) * (m - 15.0))


def filterbank():
    mels = np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), N_MELS + 2)
    edges = np.array([mel_to_hz(m) for m in mels])
    freqs = np.linspace(0, SR / 2, N_FFT // 2 + 1)
    bank = np.zeros((N_MELS, len(freqs)), dtype=np.float32)
    for b in range(N_MELS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        for k, f in enumerate(freqs):
            if lo < f < hi:
                tri = (f - lo) / (mid - lo) if f <= mid else (hi - f) / (hi - mid)
            else:
                tri = 0.0
            # area normalisation: each triangle has unit area in Hz
            bank[b, k] = np.float32(tri) * (2.0 / (hi - lo))
    return bank


def mel(pcm):
    x = np.asarray(pcm, dtype=np.float32).astype(np.float64)
    y = np.empty_like(x)
    if len(x):
        y[0] = x[0]
        y[1:] = x[1:] - 0.97 * x[:-1]
    padded = np.pad(y, N_FFT // 2, mode='reflect') if len(y) else np.zeros(N_FFT)
    n = np.arange(WIN)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)
    frames = 1 + len(y) // HOP
    spec = np.empty((N_FFT // 2 + 1, frames), dtype=np.complex64)
    for t in range(frames):
        spec[:, t] = np.fft.rfft(padded[t * HOP:t * HOP + N_FFT] * window)
    mag = np.abs(spec)
    m = filterbank() @ mag
    min_level = np.exp(-100 / 20 * np.log(10))
    db = 20 * np.log10(np.maximum(min_level, m)) - 20
    return np.clip(8 * ((db + 100) / 100) - 4, -4, 4).astype(np.float32)


def windows(T, fps):
    # the original inference.py loop
    mult = 80.0 / fps
    starts = []
    i = 0
    while True:
        start = int(i * mult)
        if start + 16 > T:
            starts.append(T - 16)
            break
        starts.append(start)
        i += 1
    n = math.ceil(T * fps / 80)
    gateway = [max(0, min(int(i * 80 / fps), T - 16)) for i in range(n)]
    return {'original': starts, 'gateway': gateway, 'count': n}


def read_wav_pcm16(path):
    from scipy.io import wavfile
    sr, data = wavfile.read(path)
    assert data.dtype == np.int16, data.dtype
    x = data.astype(np.float32) / np.float32(32768)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return sr, x.astype(np.float32)


def main(argv):
    cmd = argv[1]
    if cmd == 'mel':
        np.save(argv[3], mel(np.fromfile(argv[2], dtype='<f4')))
    elif cmd == 'wav':
        _, x = read_wav_pcm16(argv[2])
        x.astype('<f4').tofile(argv[3])
    elif cmd == 'windows':
        print(json.dumps(windows(int(argv[2]), float(argv[3]))))
    elif cmd == 'filterbank':
        np.save(argv[2], filterbank())
    else:
        raise SystemExit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
