"""The tiles' periphery (bnnoise.noise.analog_periphery) against aihwkit's own pure-PyTorch
inference layers, and its PCM read noise and output noise against their formulas on large
samples; the device's forward passes through it, seeded and restored."""

import pytest
import torch

pytest.importorskip("aihwkit")

from aihwkit.nn import AnalogConv2d, AnalogLinear  # noqa: E402
from aihwkit.simulator.configs import TorchInferenceRPUConfig  # noqa: E402
from aihwkit.simulator.tiles.array import TileModuleArray  # noqa: E402

from bnnoise.noise.analog_device import PCMDevice, device_noise  # noqa: E402
from bnnoise.noise.analog_periphery import (  # noqa: E402
    Periphery,
    Tile,
    analog_forward,
    split_sizes,
    tile_product,
)


def _aihwkit_config(inp_bits: int, out_bits: int, columnwise: bool) -> TorchInferenceRPUConfig:
    """aihwkit's pure-PyTorch inference tile with converters, no noise and no device model,
    every column's (or the array's) largest weight at 1, as this book maps them."""
    config = TorchInferenceRPUConfig()
    config.forward.out_noise = 0.0
    config.forward.inp_res = 1 / (2 ** inp_bits - 2)
    config.forward.out_res = 1 / (2 ** out_bits - 2)
    config.mapping.weight_scaling_omega = 1.0
    config.mapping.weight_scaling_columnwise = columnwise
    config.noise_model = None
    return config


def test_a_linear_layer_reads_as_aihwkit_reads_it() -> None:
    torch.manual_seed(0)
    weights, bias, x = 0.1 * torch.randn(6, 40), torch.randn(6), torch.randn(5, 40)
    reference = AnalogLinear(40, 6, bias=True, rpu_config=_aihwkit_config(3, 5, False))
    reference.set_weights(weights, bias)
    scale = weights.abs().max()
    layer = torch.nn.Linear(40, 6)
    layer.bias.data = bias
    ours = analog_forward(layer, Tile(weights / scale, scale.expand(6)),
                          Periphery(inp_bits=3, out_bits=5))
    with torch.no_grad():
        expected = reference.eval()(x)
        assert torch.equal(ours(x), expected)
        exact = x @ weights.T + bias
        assert not torch.allclose(expected, exact, atol=1e-3)  # 3 bits do change the output


def test_a_convolution_reads_as_aihwkit_reads_it_column_by_column() -> None:
    torch.manual_seed(1)
    weights, x = 0.1 * torch.randn(5, 3, 3, 3), torch.randn(2, 3, 9, 9)
    reference = AnalogConv2d(3, 5, 3, stride=2, padding=1, bias=False,
                             rpu_config=_aihwkit_config(4, 6, True))
    reference.set_weights(weights)
    matrix = weights.reshape(5, -1)
    scale = matrix.abs().amax(dim=1)
    conv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False)
    ours = analog_forward(conv, Tile(matrix / scale[:, None], scale),
                          Periphery(inp_bits=4, out_bits=6))
    with torch.no_grad():
        assert torch.equal(ours(x), reference.eval()(x))


def test_layers_wider_than_a_tile_split_as_aihwkit_splits_them() -> None:
    for size, largest in ((600, 512), (1153, 512), (576, 512), (27, 512)):
        assert split_sizes(size, largest) == TileModuleArray.get_split_sizes(None, size, largest)
    torch.manual_seed(2)
    weights, x = torch.randn(3, 10).clamp(-1, 1), torch.randn(4, 10)
    tile, one = Tile(weights, torch.ones(3)), Periphery(inp_bits=4)
    split = tile_product(tile, x, Periphery(inp_bits=4, max_input_size=5))
    parts = sum(tile_product(Tile(w, torch.ones(3)), part, one)
                for w, part in zip(weights.split(5, dim=1), x.split(5, dim=1), strict=True))
    assert torch.allclose(split, parts)  # each half on its own tile, with its own DAC
    assert not torch.allclose(split, tile_product(tile, x, one))


@pytest.mark.parametrize("inp_bits", [None, 16])  # read_out, and aihwkit's product with a DAC
def test_pcm_read_noise_has_the_spread_of_its_formula(inp_bits: int | None) -> None:
    torch.manual_seed(3)
    weights = torch.rand(4, 30) * 2 - 1
    x = torch.randn(30).expand(200_000, 30).contiguous()
    out = tile_product(Tile(weights, torch.ones(4)), x, Periphery(inp_bits=inp_bits,
                                                                   w_noise=0.05))
    spread = 0.05 * (weights.abs() @ x[0] ** 2).sqrt()  # scale-free: |x| cancels
    assert torch.allclose(out.mean(0), weights @ x[0], atol=4 * float(spread.max()) / 400)
    assert torch.allclose(out.std(0), spread, rtol=0.01)


def test_output_noise_is_in_units_of_the_scaled_input_and_the_output_factor() -> None:
    torch.manual_seed(4)
    weights = torch.rand(3, 20) * 2 - 1
    x = (3 * torch.randn(20)).expand(200_000, 20)
    out = tile_product(Tile(weights, torch.full((3,), 0.5)), x, Periphery(out_noise=0.06))
    expected = 0.06 * float(x[0].abs().max()) * 0.5  # noise added before both scalings
    assert torch.allclose(out.std(0), torch.full((3,), expected), rtol=0.01)


def _network() -> torch.nn.Module:
    torch.manual_seed(5)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 10))


def test_the_device_reads_through_its_periphery_seeded_and_restored() -> None:
    network, x = _network(), torch.randn(8, 3, 8, 8)
    tensors = {k: v for k, v in network.state_dict(keep_vars=True).items() if v.dim() >= 2}
    device = PCMDevice(t_inference=86_400.0, inp_bits=7, out_bits=9, out_noise=0.06,
                       w_noise=0.0175)
    with torch.no_grad():
        clean = network(x)
        generator = torch.get_rng_state()
        outputs = []
        for seed in (11, 11, 12):
            with device_noise(tensors, device, seed, network):
                outputs.append(network(x))
        assert torch.equal(outputs[0], outputs[1]) and not torch.equal(outputs[0], outputs[2])
        without = PCMDevice(t_inference=86_400.0)
        with device_noise(tensors, without, 11, network):
            assert not torch.equal(network(x), outputs[0])  # the periphery changes the output
        assert torch.equal(network(x), clean)  # the layers' own forward passes are back
        assert torch.equal(torch.get_rng_state(), generator)
        assert all("forward" not in m.__dict__ for m in network.modules())
    with pytest.raises(ValueError, match="needs the network"), device_noise(tensors, device, 0):
        pass


def test_the_periphery_is_off_unless_asked_for_and_checked_before_any_compute() -> None:
    assert PCMDevice().periphery is None
    assert PCMDevice(out_noise=0.04).periphery == Periphery(out_noise=0.04)
    with pytest.raises(ValueError, match="inp_bits must be an integer from 2 to 24"):
        PCMDevice(inp_bits=1)
    with pytest.raises(ValueError, match="w_noise must be >= 0"):
        PCMDevice(w_noise=-0.1)


def test_an_exact_input_reads_as_aihwkit_reads_it_without_unfolding() -> None:
    torch.manual_seed(6)
    weights, bias, x = 0.1 * torch.randn(6, 40), torch.randn(6), torch.randn(300, 40)
    config = _aihwkit_config(3, 6, False)
    config.forward.inp_res = -1.0  # no DAC: the input enters exactly
    reference = AnalogLinear(40, 6, bias=True, rpu_config=config)
    reference.set_weights(weights, bias)
    scale = weights.abs().max()
    layer = torch.nn.Linear(40, 6)
    layer.bias.data = bias
    ours = analog_forward(layer, Tile(weights / scale, scale.expand(6)), Periphery(out_bits=6))
    with torch.no_grad():
        differ = (ours(x) - reference.eval()(x)).abs()
    step = 2 * 12.0 / (2 ** 6 - 2) * float(x.abs().max()) * float(scale)
    assert float(differ.max()) <= 1.01 * step  # at most one ADC step, where rounding ties
    assert float((differ > 1e-5).float().mean()) < 0.01  # fall apart in the last bit


def test_a_saturated_output_is_read_again_at_half_the_input_as_aihwkit_does() -> None:
    from aihwkit.simulator.tiles.analog_mvm import AnalogMVM

    weights, x = torch.ones(2, 100), torch.ones(3, 100)  # 100 > the ADC's bound of 12
    periphery = Periphery(out_bits=9)
    ours = tile_product(Tile(weights, torch.ones(2)), x, periphery)
    theirs = AnalogMVM.matmul(weights, x, periphery.io_parameters(), is_test=True)
    assert torch.equal(ours, theirs)
    step = 2 * 12.0 / (2 ** 9 - 2)  # one ADC step, at the input halved four times: 16 steps
    assert float((ours - 100).abs().max()) <= 16 * step / 2 + 1e-4  # not clipped at 12


def test_a_convolution_reads_by_convolutions_as_by_unfolded_patches() -> None:
    from bnnoise.noise.analog_periphery import _conv_product, _unfolded

    torch.manual_seed(7)
    conv = torch.nn.Conv2d(4, 5, 3, stride=2, padding=1, bias=False)
    matrix = torch.randn(5, 36).clamp(-1, 1)
    tile, x = Tile(matrix, torch.rand(5) + 0.5), torch.randn(3, 4, 9, 9).relu()
    for periphery in (Periphery(out_bits=8), Periphery(out_bits=8, max_input_size=18)):
        with torch.no_grad():
            fast = _conv_product(conv, tile, x, periphery)
            slow = _unfolded(conv, tile, x, periphery)
        assert fast is not None and float((fast - slow).abs().max()) < 0.05
        assert float(((fast - slow).abs() > 1e-5).float().mean()) < 0.01
    assert _conv_product(conv, tile, x, Periphery(max_input_size=16)) is None  # splits a kernel
    assert _conv_product(conv, tile, x, Periphery(inp_bits=7)) is None  # the DAC needs patches
