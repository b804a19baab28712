"""Imported before the server starts by `python -m bench logs`' "metrics off" variant:
every counter and histogram of gatekeeper.metrics becomes a no-op, so the difference to
the shipped server is what keeping the metrics costs. For the benchmark only."""

from prometheus_client.metrics import MetricWrapperBase

from gatekeeper import metrics


class _Nothing:
    def labels(self, *args, **kwargs):
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, amount: float) -> None:
        pass


replaced = [name for name, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)]
for _name in replaced:
    setattr(metrics, _name, _Nothing())
