"""An empty Hydra job: the baseline that benchmarks/sweep.py measures the harness's job overhead against."""

import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path=None)
def main(cfg: DictConfig) -> None:
    pass


if __name__ == "__main__":
    main()
