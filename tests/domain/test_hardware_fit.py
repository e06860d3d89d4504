"""Memory estimates against published reference points, and the fit verdict thresholds."""

import pytest

from app.domain.hardware_fit import (
    BITS_PER_WEIGHT,
    CACHE_BYTES_PER_ELEMENT,
    FITS,
    GIB,
    MIB,
    RUNTIME_BYTES,
    TIGHT,
    WONT_FIT,
    MemoryEstimate,
    ModelShape,
    estimate_memory,
    fit_verdict,
    format_bytes,
    kv_cache_bytes,
    machine_memory,
)

GB = 10**9
QWEN_VOCAB = 152_064

# Published architectures (Hugging Face config.json of the base models; parameter counts
# as the Hub lists them from the safetensors). DeepSeek-R1-Distill-Qwen-7B is built on
# Qwen2.5-Math-7B (same shape as Qwen2.5-7B), the 14B/32B distills on Qwen2.5-14B/32B,
# and QwQ-32B has Qwen2.5-32B's shape.
QWEN_7B = ModelShape(n_layers=28, n_heads=28, n_kv_heads=4, head_dim=128, n_params=7_615_616_512,
                     quantization="Q4_K_M", vocab_size=QWEN_VOCAB)
QWEN_14B = ModelShape(n_layers=48, n_heads=40, n_kv_heads=8, head_dim=128, n_params=14_770_033_664,
                      quantization="Q4_K_M", vocab_size=QWEN_VOCAB)
QWEN_32B = ModelShape(n_layers=64, n_heads=40, n_kv_heads=8, head_dim=128, n_params=32_763_876_352,
                      quantization="Q4_K_M", vocab_size=QWEN_VOCAB)

REFERENCE = [  # model, shape, commonly quoted Q4_K_M file size, KV cache at 32K context (f16)
    ("DeepSeek-R1-Distill-Qwen-7B", QWEN_7B, 4.7 * GB, 2 * 28 * 32768 * 4 * 128 * 2),
    ("DeepSeek-R1-Distill-Qwen-14B", QWEN_14B, 9.0 * GB, 2 * 48 * 32768 * 8 * 128 * 2),
    ("DeepSeek-R1-Distill-Qwen-32B", QWEN_32B, 19.0 * GB, 2 * 64 * 32768 * 8 * 128 * 2),
    ("QwQ-32B", QWEN_32B, 19.0 * GB, 2 * 64 * 32768 * 8 * 128 * 2),
]


@pytest.mark.parametrize("name,shape,quoted,kv", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_reference_models_at_q4_k_m_and_32k_context(name, shape, quoted, kv):
    estimate = estimate_memory(shape, 32768)
    assert estimate.weights_bytes == pytest.approx(quoted, rel=0.10), format_bytes(estimate.weights_bytes)
    assert estimate.kv_cache_bytes == kv
    # overhead: runtime + attention scores of one 512-token micro-batch + 2 % of the weights
    scores = 512 * 32768 * shape.n_heads * 4
    assert estimate.overhead_bytes == RUNTIME_BYTES + scores + round(0.02 * estimate.weights_bytes)
    assert estimate.total == estimate.weights_bytes + estimate.kv_cache_bytes + estimate.overhead_bytes


def test_kv_cache_reference_figures_in_gib():
    assert kv_cache_bytes(QWEN_7B, 32768) == pytest.approx(1.75 * GIB)
    assert kv_cache_bytes(QWEN_14B, 32768) == 6 * GIB
    assert kv_cache_bytes(QWEN_32B, 32768) == 8 * GIB


def test_seven_b_total_at_32k_is_about_eight_and_a_half_gb():
    estimate = estimate_memory(QWEN_7B, 32768)
    assert estimate.total == pytest.approx(8.6 * GB, rel=0.05)


def test_cache_types_scale_the_kv_cache():
    f16 = kv_cache_bytes(QWEN_7B, 8192, "f16")
    assert kv_cache_bytes(QWEN_7B, 8192, "q8_0") == pytest.approx(f16 * 1.0625 / 2)
    assert kv_cache_bytes(QWEN_7B, 8192, "q4_0") == pytest.approx(f16 * 0.5625 / 2)
    assert CACHE_BYTES_PER_ELEMENT["q8_0"] == 34 / 32
    with pytest.raises(ValueError, match="q3_x"):
        kv_cache_bytes(QWEN_7B, 8192, "q3_x")


def test_kv_cache_is_linear_in_context():
    assert kv_cache_bytes(QWEN_14B, 16384) * 2 == kv_cache_bytes(QWEN_14B, 32768)


def test_separate_v_head_size_is_summed():
    shape = ModelShape(n_layers=2, n_heads=4, n_kv_heads=2, head_dim=192, head_dim_v=128, n_params=1)
    assert kv_cache_bytes(shape, 10) == 2 * 10 * 2 * (192 + 128) * 2


def test_exact_weights_win_over_bits_per_weight():
    shape = ModelShape(n_layers=1, n_heads=1, n_kv_heads=1, head_dim=1, n_params=10**9,
                       quantization="Q4_K_M", weights_bytes=123)
    assert shape.weight_bytes() == 123
    assert ModelShape(1, 1, 1, 1, 10**9, "Q8_0").weight_bytes() == 1_062_500_000
    assert ModelShape(1, 1, 1, 1, 10**9, "mostly_q4_k_m").weight_bytes() == 606_250_000
    assert ModelShape(1, 1, 1, 1, 10**9, "never-heard-of-it").weight_bytes() == 2 * 10**9  # F16


def test_bits_per_weight_table_is_ordered_sensibly():
    order = ["IQ2_XXS", "Q2_K", "Q3_K_M", "IQ4_XS", "Q4_K_S", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16", "F32"]
    values = [BITS_PER_WEIGHT[q] for q in order]
    assert values == sorted(values)


def test_flash_attention_drops_the_score_buffer_but_not_the_logits():
    with_scores = estimate_memory(QWEN_7B, 32768)
    flash = estimate_memory(QWEN_7B, 32768, flash_attn=True)
    logits = 512 * QWEN_VOCAB * 4
    assert flash.overhead_bytes == RUNTIME_BYTES + logits + round(0.02 * flash.weights_bytes)
    assert flash.total < with_scores.total


def test_small_context_uses_a_smaller_micro_batch():
    shape = ModelShape(n_layers=1, n_heads=10, n_kv_heads=1, head_dim=1, n_params=0, weights_bytes=0)
    assert estimate_memory(shape, 100).overhead_bytes == RUNTIME_BYTES + 100 * 100 * 10 * 4


# --- verdicts ---------------------------------------------------------------------------

def _estimate(total: int) -> MemoryEstimate:
    return MemoryEstimate(total // 2, total // 4, total - total // 2 - total // 4, total, n_ctx=8192)


@pytest.mark.parametrize("need_gb,status", [
    (1, FITS), (7.5, FITS), (7.51, TIGHT), (9.5, TIGHT), (9.51, WONT_FIT), (40, WONT_FIT),
])
def test_verdict_thresholds_against_10_gb(need_gb, status):
    verdict = fit_verdict(_estimate(int(need_gb * GB)), 10 * GB)
    assert verdict.status == status
    assert verdict.need_bytes == int(need_gb * GB) and verdict.available_bytes == 10 * GB


def test_explanation_gives_the_numbers():
    verdict = fit_verdict(estimate_memory(QWEN_7B, 32768), 8 * GB)
    assert verdict.status == WONT_FIT
    text = verdict.explanation
    assert "8.6 GB" in text and "4.6 GB" in text and "1.9 GB" in text and "32,768 tokens" in text
    assert "8.0 GB of available RAM" in text and "lower n_ctx" in text
    tight = fit_verdict(_estimate(9 * GB), 10 * GB)
    assert "90% of the 10.0 GB" in tight.explanation and "close other programs" in tight.explanation


def test_vram_first_then_ram_and_vram_together():
    on_gpu = fit_verdict(_estimate(10 * GB), 4 * GB, vram_bytes=24 * GB)
    assert on_gpu.status == FITS and "GPU" in on_gpu.explanation
    split = fit_verdict(_estimate(20 * GB), 16 * GB, vram_bytes=12 * GB)
    assert split.status == FITS and split.available_bytes == 28 * GB
    assert "RAM and GPU memory" in split.explanation


def test_no_memory_at_all_never_fits():
    verdict = fit_verdict(_estimate(GB), 0)
    assert verdict.status == WONT_FIT and verdict.fraction == float("inf")


def test_format_bytes():
    assert format_bytes(98_362_432) == "98 MB"
    assert format_bytes(4.62e9) == "4.6 GB"
    assert format_bytes(5000) == "5 kB"


# --- this machine -----------------------------------------------------------------------

def test_machine_memory_reads_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:   1000000 kB\nMemAvailable:    9000000 kB\n")
    found = machine_memory(meminfo, tmp_path / "no-cgroup", platform="linux")
    assert found == type(found)(16000000 * 1024, 9000000 * 1024, "/proc/meminfo")


def test_machine_memory_respects_a_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 16000000 kB\nMemAvailable: 9000000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(f"{4 * GIB}\n")
    (cgroup / "memory.current").write_text(f"{GIB}\n")
    found = machine_memory(meminfo, cgroup, platform="linux")
    assert found.available_bytes == 3 * GIB and "cgroup" in found.source
    (cgroup / "memory.max").write_text("max\n")
    assert machine_memory(meminfo, cgroup, platform="linux").available_bytes == 9000000 * 1024


def test_machine_memory_falls_back_to_sysconf(tmp_path):
    found = machine_memory(tmp_path / "missing", tmp_path, platform="linux")
    assert found.total_bytes > 0 and found.available_bytes > 0


def test_this_machine_has_some_memory():
    found = machine_memory()
    assert 256 * MIB < found.total_bytes and 0 < found.available_bytes <= found.total_bytes
