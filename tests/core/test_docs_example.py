"""The example at the end of docs/writing-a-plugin.md works as written."""


def test_toy_hits(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source},
                      entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}:{pycache_env.env['PATH']}"
    (tmp_path / "a.toy").write_text("hello\n")
    for _ in range(2):
        assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=tmp_path).returncode == 0
    assert pycache_env.totals()["hits"] == 1
    assert pycache_env.totals()["direct_hits"] == 1
    assert (tmp_path / "a.out").read_text() == "hello\n"
