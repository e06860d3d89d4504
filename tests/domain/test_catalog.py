"""The catalog file: it loads, every entry is complete, and mistakes are named with their line.
And the seed table: the local-hardware figures users know, reproduced from the catalog's own
data through the fit engine (hardware_fit)."""

from __future__ import annotations

import pytest

from app.domain.catalog import load_catalog, parse_catalog
from app.domain.catalog_fit import catalog_fit, context_for_profile, needed_context, typical_machine
from app.domain.chat_presets import PRESETS
from app.domain.hardware_fit import FITS, GIB, TIGHT, WONT_FIT, estimate_memory
from app.errors import ConfigError


def test_the_builtin_catalog_loads_and_is_complete():
    catalog = load_catalog()
    ids = catalog.ids
    for wanted in ("deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen-7b", "deepseek-r1-distill-qwen-14b",
                   "deepseek-r1-distill-qwen-32b", "qwq-32b", "deepseek-r1", "qwen3-4b", "gpt-oss-20b",
                   "gemma-3-4b-it", "gemma-3-4b-it-qat"):
        assert wanted in ids
    for entry in catalog.entries:
        assert entry.quants and all(q.size > 100e6 for q in entry.quants)
        assert entry.layers and entry.kv_heads and entry.head_dim and entry.vocab and entry.context >= 8192
        assert (entry.role == "reasoning") == (entry.trace != (0, 0))
        assert entry.chat_template is None or entry.chat_template in PRESETS
    qwen3 = catalog.get("qwen3-4b")
    assert qwen3.thinking_switch == "enable_thinking"
    for small in ("qwen3-8b", "qwen3-1.7b", "qwen3-0.6b"):
        entry = catalog.get(small)
        assert entry.role == "reasoning" and entry.thinking_switch == "enable_thinking" and entry.chat_template == "qwen3"
    coder = catalog.get("qwen3-coder-30b-a3b")
    assert (coder.role, coder.reasoning, coder.thinking_switch) == ("instruct", "none", "none")
    assert coder.architecture == "qwen3moe" and coder.kv_heads == 4 and coder.context == 262144
    assert catalog.lookup("qwen3-coder-30b-a3b")[1].first_file == "Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf"
    assert catalog.get("gemma-3-4b-it-qat").gated and not catalog.get("gemma-3-4b-it").gated
    entry, quant = catalog.lookup("deepseek-r1:UD-IQ1_S")
    assert len(quant.files) == 3 and quant.first_file.endswith("-00001-of-00003.gguf")
    assert catalog.lookup("qwq-32b")[1].quant == "Q4_K_M"  # the default quantization


@pytest.mark.parametrize("change, line, key, words", [
    ('trace = [500, 2000]', 14, "trace", "needs trace = [low, high]"),
    ('kv_heads = 4', 11, "kv_heads", 'missing the key "kv_heads"'),
    ('repo = "owner/name"', 4, "repo", 'such as "owner/name"'),
])
def test_mistakes_are_named_with_their_line(change, line, key, words):
    good = """
[[model]]
id = "m"
repo = "owner/name"
name = "M"
role = "reasoning"
license = "MIT"
good_for = "x"
architecture = "qwen2"
layers = 28
kv_heads = 4
heads = 28
head_dim = 128
trace = [500, 2000]
vocab = 152064
context = 131072
reasoning = "think"

[[model.quant]]
quant = "Q4_K_M"
files = [{ name = "m-Q4_K_M.gguf", size = 4680000000 }]
"""
    assert parse_catalog(good).get("m").kv_heads == 4
    broken = good.replace(change + "\n", "" if key != "repo" else 'repo = "not a repo"\n')
    with pytest.raises(ConfigError) as failure:
        parse_catalog(broken)
    assert words in str(failure.value) and failure.value.key == key
    assert failure.value.line == (line if key == "repo" else 2)  # a missing key: its [[model]] header


def test_an_unknown_key_and_a_bad_file_name_are_refused():
    with pytest.raises(ConfigError, match=r'unknown key "kv_head".*did you mean "kv_heads"') as failure:
        parse_catalog('[[model]]\nid = "m"\nkv_head = 4\n')
    assert failure.value.line == 3
    with pytest.raises(ConfigError, match="must be a .gguf path inside the repo"):
        parse_catalog(load_catalog_text().replace("DeepSeek-R1-Distill-Qwen-7B-Q3_K_L.gguf", "../x.gguf"))


def load_catalog_text() -> str:
    from app.domain.catalog import builtin_catalog_path

    return builtin_catalog_path().read_text()


# ---------------------------------------------------------------------------------------
# The seed table: model, the quantization its "Q4 memory" figure is quoted for, Q4 memory
# (GB as tools quote it: GiB), the smallest machine it runs on, typical trace.
# DeepSeek-R1's "140 GB" is the 1.58-bit dynamic quant (UD-IQ1_S, 140.2 GB in three parts);
# its real Q4_K_M is 404 GB.
SEED = [
    ("deepseek-r1-distill-qwen-7b", "Q4_K_M", 4, 16, (500, 2000)),
    ("deepseek-r1-distill-qwen-14b", "Q4_K_M", 8, 24, (1000, 3000)),
    ("deepseek-r1-distill-qwen-32b", "Q4_K_M", 18, 32, (1500, 5000)),
    ("qwq-32b", "Q4_K_M", 18, 32, (2000, 8000)),
    ("deepseek-r1", "UD-IQ1_S", 140, None, (5000, 30000)),  # None: not practical locally
]
MACHINES = (16, 24, 32, 48, 64)
# The verdicts at the context a typical trace needs, per machine; "tight" means it runs with
# little to spare (close other programs), so the table's "32 GB+" is tight at 32 and fits above.
EXPECTED = {
    "deepseek-r1-distill-qwen-7b": (FITS, FITS, FITS, FITS, FITS),
    "deepseek-r1-distill-qwen-14b": (WONT_FIT, FITS, FITS, FITS, FITS),
    "deepseek-r1-distill-qwen-32b": (WONT_FIT, WONT_FIT, TIGHT, FITS, FITS),
    "qwq-32b": (WONT_FIT, WONT_FIT, TIGHT, FITS, FITS),
    "deepseek-r1": (WONT_FIT,) * 5,
}


@pytest.mark.parametrize("model_id, quant_name, q4_gb, minimum, trace", SEED, ids=[s[0] for s in SEED])
def test_the_seed_table_is_reproduced_from_the_catalog(model_id, quant_name, q4_gb, minimum, trace):
    entry = load_catalog().get(model_id)
    quant = entry.quant(quant_name)
    assert entry.trace == trace
    weights = estimate_memory(entry.shape(quant), needed_context(entry)).weights_bytes
    assert abs(weights / GIB - q4_gb) <= 0.15 * q4_gb, f"{model_id}: {weights / GIB:.2f} GB vs {q4_gb} GB"

    verdicts = tuple(catalog_fit(entry, quant, typical_machine(gb).available_bytes).status for gb in MACHINES)
    assert verdicts == EXPECTED[model_id]
    runs_on = next((gb for gb, v in zip(MACHINES, verdicts) if v != WONT_FIT), None)
    assert runs_on == minimum


def test_the_context_a_trace_needs_and_the_largest_that_fits():
    catalog = load_catalog()
    assert needed_context(catalog.get("deepseek-r1-distill-qwen-7b")) == 8192       # 2 × 2,000 + 3,072 → 8K floor
    assert needed_context(catalog.get("deepseek-r1-distill-qwen-14b")) == 12288     # 9,072 → 12K
    assert needed_context(catalog.get("qwq-32b")) == 20480                         # 19,072 → 20K
    assert needed_context(catalog.get("deepseek-r1")) == 65536
    assert needed_context(catalog.get("gemma-3-4b-it")) == 8192
    entry = catalog.get("qwq-32b")
    quant = entry.quant()
    fit = catalog_fit(entry, quant, typical_machine(32).available_bytes)
    assert fit.status == TIGHT and 0 < fit.max_fitting_ctx < fit.n_ctx
    # the largest fitting context fits, one step more does not
    from app.domain.hardware_fit import fit_verdict
    available = typical_machine(32).available_bytes
    assert fit_verdict(estimate_memory(entry.shape(quant), fit.max_fitting_ctx), available).status == FITS
    assert fit_verdict(estimate_memory(entry.shape(quant), fit.max_fitting_ctx + 1024), available).status != FITS
    assert context_for_profile(fit) == fit.max_fitting_ctx  # tight: the entry gets what fits
    roomy = catalog_fit(entry, quant, typical_machine(64).available_bytes)
    assert context_for_profile(roomy) == roomy.n_ctx == 20480
    assert "A typical trace takes 2,000–8,000 tokens" in fit.tooltip() and "Needs about" in fit.tooltip()
