"""Wav2Lip generator (shared/docs/wav2lip.md §1) and the served-model wrapper (architecture.md §2).

The module tree mirrors the published network so that an official `wav2lip.pth` / `wav2lip_gan.pth`
state_dict loads with strict=True once the `module.` (nn.DataParallel) prefix is stripped.
"""
import torch
from torch import nn

FACE_SIZE = 96
MEL_BANDS = 80
MEL_WINDOW = 16
MASK_FROM_ROW = FACE_SIZE // 2  # rows 48..95 (the lower half) are hidden from the face encoder


class ConvBlock(nn.Module):
    """conv -> BatchNorm -> (+input when residual) -> ReLU. Keys: conv_block.0 (conv), conv_block.1 (BN)."""

    def __init__(self, cin, cout, kernel_size, stride, padding, residual=False):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(cin, cout, kernel_size, stride, padding),
            nn.BatchNorm2d(cout),
        )
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x):
        out = self.conv_block(x)
        if self.residual:
            out = out + x  # the residual add comes before the ReLU, as upstream
        return self.act(out)


class ConvTransposeBlock(nn.Module):
    """transposed conv -> BatchNorm -> ReLU (never residual)."""

    def __init__(self, cin, cout, kernel_size, stride, padding, output_padding=0):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding),
            nn.BatchNorm2d(cout),
        )
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv_block(x))


def _res(ch):
    return ConvBlock(ch, ch, 3, 1, 1, residual=True)


def _face_encoder():
    # 96² -> 48² -> 24² -> 12² -> 6² -> 3² -> 1²; every stage output is kept as a skip connection
    return nn.ModuleList([
        nn.Sequential(ConvBlock(6, 16, 7, 1, 3)),
        nn.Sequential(ConvBlock(16, 32, 3, 2, 1), _res(32), _res(32)),
        nn.Sequential(ConvBlock(32, 64, 3, 2, 1), _res(64), _res(64), _res(64)),
        nn.Sequential(ConvBlock(64, 128, 3, 2, 1), _res(128), _res(128)),
        nn.Sequential(ConvBlock(128, 256, 3, 2, 1), _res(256), _res(256)),
        nn.Sequential(ConvBlock(256, 512, 3, 2, 1), _res(512)),
        nn.Sequential(ConvBlock(512, 512, 3, 1, 0), ConvBlock(512, 512, 1, 1, 0)),
    ])


def _audio_encoder():
    # 1x80x16 -> 32x80x16 -> 64x27x16 -> 128x9x6 -> 256x3x3 -> 512x1x1
    return nn.Sequential(
        ConvBlock(1, 32, 3, 1, 1), _res(32), _res(32),
        ConvBlock(32, 64, 3, (3, 1), 1), _res(64), _res(64),
        ConvBlock(64, 128, 3, 3, 1), _res(128), _res(128),
        ConvBlock(128, 256, 3, (3, 2), 1), _res(256),
        ConvBlock(256, 512, 3, 1, 0),
        ConvBlock(512, 512, 1, 1, 0),
    )


def _up(cin, cout):
    return ConvTransposeBlock(cin, cout, 3, 2, 1, output_padding=1)  # doubles H and W


def _face_decoder():
    return nn.ModuleList([
        nn.Sequential(ConvBlock(512, 512, 1, 1, 0)),
        nn.Sequential(ConvTransposeBlock(1024, 512, 3, 1, 0), _res(512)),  # 1 -> 3
        nn.Sequential(_up(1024, 512), _res(512), _res(512)),  # 6
        nn.Sequential(_up(768, 384), _res(384), _res(384)),  # 12
        nn.Sequential(_up(512, 256), _res(256), _res(256)),  # 24
        nn.Sequential(_up(320, 128), _res(128), _res(128)),  # 48
        nn.Sequential(_up(160, 64), _res(64), _res(64)),  # 96
    ])


class Wav2Lip(nn.Module):
    """forward(audio [B,1,80,16], face [B,6,96,96] BGR, 0..1, ch 0-2 masked) -> [B,3,96,96] BGR in (0,1)."""

    def __init__(self):
        super().__init__()
        self.face_encoder_blocks = _face_encoder()
        self.audio_encoder = _audio_encoder()
        self.face_decoder_blocks = _face_decoder()
        self.output_block = nn.Sequential(
            ConvBlock(80, 32, 3, 1, 1),
            nn.Conv2d(32, 3, 1, 1, 0),
            nn.Sigmoid(),
        )

    def forward(self, audio, face):
        skips = []
        x = face
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = self.audio_encoder(audio)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)  # deepest encoder output first
        return self.output_block(x)


class Wav2LipServed(nn.Module):
    """The model contract: mel FP32 [N,1,80,16] + face UINT8 [N,96,96,3] RGB NHWC -> mouth UINT8 RGB NHWC.

    All pre/post-processing lives here so it is exported into the graph. The generator is the
    attribute `generator`, so ONNX node names of the network start with `/generator/` (used by
    the FP16 converter to keep pre/post-processing in FP32).
    """

    def __init__(self, generator):
        super().__init__()
        self.generator = generator
        mask = torch.ones(1, 1, FACE_SIZE, 1)
        mask[:, :, MASK_FROM_ROW:, :] = 0
        # a multiply by 0/1 is exact and exports as one Mul (no ScatterND from in-place slicing)
        self.register_buffer('lower_half_mask', mask, persistent=False)
        self.register_buffer('channel_flip', torch.tensor([2, 1, 0]), persistent=False)

    def forward(self, mel, face):
        x = face.to(torch.float32) / 255.0
        x = torch.index_select(x, 3, self.channel_flip)  # RGB -> BGR (weights were trained on OpenCV frames)
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
        x = torch.cat((x * self.lower_half_mask, x), dim=1)  # [masked, unmasked] on channels
        y = self.generator(mel, x)
        y = torch.clamp(y * 255.0, 0.0, 255.0).round()
        y = torch.index_select(y, 1, self.channel_flip)  # BGR -> RGB
        return y.permute(0, 2, 3, 1).to(torch.uint8)


def build_random(seed):
    """A generator with the framework's default layer initialisation, drawn from `seed` (same seed, same weights).

    BatchNorm keeps torch defaults (weight 1, bias 0, running mean 0, var 1).
    """
    with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG untouched
        torch.manual_seed(int(seed))
        model = Wav2Lip()
    return model.eval()


# Demo model only: the gain of each residual branch (the BatchNorm weight of a residual block's conv).
# With torch's 1.0 the random BN-ResNet is chaotic: +-1 grey level of noise on the input face moves the mouth by
# ~2 grey levels rms (41.9 dB, FP32), which no trained face model does, and int8 rounding is amplified alike.
# 0.3 (small residual branches at initialisation, as in SkipInit/Fixup) gives 50.3 dB for the same noise while
# the mouth still follows the audio (mean change on an audio swap 9.5 grey levels, 14.4 with 1.0); README "INT8".
DEMO_RESIDUAL_GAIN = 0.3


def calibrate_bn(generator, seed, batches=2, frames=8, residual_gain=DEMO_RESIDUAL_GAIN):
    """Opt-in for the demo model: scale the residual branches, then re-estimate BN running stats from seeded
    random inputs.

    With torch's default init and BN stats (mean 0, var 1) the signal fades through the deep
    encoders, so a random model's output barely depends on the audio (a static grey patch).
    Running a few train-mode forwards re-normalises every layer and the random mouth moves.
    Each residual block's BN weight becomes `residual_gain` (DEMO_RESIDUAL_GAIN: why); the convolutions are
    untouched; the result is deterministic for a given seed.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) + 1)
        for module in generator.modules():
            if isinstance(module, ConvBlock) and module.residual:
                with torch.no_grad():
                    module.conv_block[1].weight.fill_(float(residual_gain))
            if isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the calibration batches
        generator.train()
        mask = torch.ones(1, 1, FACE_SIZE, 1)
        mask[:, :, MASK_FROM_ROW:, :] = 0
        with torch.no_grad():
            for _ in range(batches):
                mel = torch.randn(frames, 1, MEL_BANDS, MEL_WINDOW) * 2.0
                face = torch.rand(frames, 3, FACE_SIZE, FACE_SIZE)
                generator(mel, torch.cat((face * mask, face), dim=1))
        for module in generator.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.1
    return generator.eval()
