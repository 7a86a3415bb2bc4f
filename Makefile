# Shortcuts for the README's Quickstart commands (scripts/run.sh does the work; no make needed).
.PHONY: demo test docs-images

demo:
	sh scripts/run.sh demo

test:
	sh scripts/run.sh test

# the README's pictures: the default demo's plots, copied into docs/
docs-images:
	sh scripts/run.sh demo --no-progress --overwrite --out runs/docs-images
	cp runs/docs-images/loss.png runs/docs-images/decision_boundary.png docs/
