# Thin wrapper over the two README commands.
.PHONY: start test build bench clean
start:
	./scripts/start.sh
test:
	./scripts/test.sh
build:
	./scripts/build.sh
bench:
	./redis-tests/bench.sh
clean:
	rm -rf build build-asan build-fuzz
