from synthguard.cli import main
def test_probe(settings):
    assert main(["tokens", "create", "--role", "nobody", "--tenant", "x"]) == 2
