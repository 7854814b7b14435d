using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Prometheus;

namespace XcrCluster.Node;

/// <summary>Exports the engine's System.Diagnostics.Metrics instruments (meters named XcrCluster.*) to a prometheus-net
/// registry as what they are: a Counter as a counter, a Histogram as a histogram (buckets from its advice), an UpDownCounter
/// or an ObservableGauge as a gauge. prometheus-net's own MeterAdapter shows every counter as a gauge and drops a series left
/// unchanged for five minutes (a quiet pool's bytes would vanish and come back from zero). Label names are the tags' names,
/// sorted; an observable gauge's series not reported at a scrape (a VM whose entity left) are removed.</summary>
public sealed class MeterExport : IDisposable
{
    public const string MeterPrefix = "XcrCluster.";

    private static readonly double[] DefaultBuckets = [0.01, 0.1, 1, 10, 100, 1000];
    private readonly MeterListener listener = new();
    private readonly MetricFactory factory;
    private readonly ConcurrentDictionary<Instrument, Collector> collectors = new();
    private readonly Lock scraping = new();

    /// <summary>During a scrape: the series each observable gauge reported.</summary>
    private Dictionary<Gauge, HashSet<string>>? reported;

    public MeterExport(CollectorRegistry registry)
    {
        factory = Metrics.WithCustomRegistry(registry);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>(Record);
        listener.SetMeasurementEventCallback<long>(Record);
        listener.SetMeasurementEventCallback<double>(Record);
        listener.Start();
        registry.AddBeforeCollectCallback(Observe);
    }

    public void Dispose() => listener.Dispose();

    /// <summary>Called on the thread that records (a run, an actor): a metric that cannot take the measurement (tags not as its
    /// first ones) loses it rather than throw into the code being measured.</summary>
    private void Record<T>(Instrument instrument, T measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        where T : struct
    {
        try
        {
            Export(instrument, Convert.ToDouble(measurement, CultureInfo.InvariantCulture), tags);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            System.Diagnostics.Trace.WriteLine($"metric {instrument.Name}: measurement dropped: {e.Message}");
        }
    }

    private void Export(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var labels = sorted.Select(t => Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "").ToArray();
        switch (collectors.GetOrAdd(instrument, Create, sorted.Select(t => t.Key).ToArray()))
        {
            case Counter counter:
                counter.WithLabels(labels).Inc(value);
                break;
            case Histogram histogram:
                histogram.WithLabels(labels).Observe(value);
                break;
            case Gauge gauge when instrument.IsObservable:
                gauge.WithLabels(labels).Set(value);
                if (reported is { } seen)
                {
                    (seen.TryGetValue(gauge, out var series) ? series : seen[gauge] = []).Add(string.Join('\0', labels));
                }

                break;
            case Gauge gauge:
                gauge.WithLabels(labels).Inc(value);
                break;
        }
    }

    private Collector Create(Instrument instrument, string[] labelNames)
    {
        var help = instrument.Description ?? instrument.Name;
        var kind = instrument.GetType().GetGenericTypeDefinition();
        return kind == typeof(Counter<>) ? factory.CreateCounter(instrument.Name, help, labelNames)
            : instrument is Histogram<double> histogram ? factory.CreateHistogram(instrument.Name, help, labelNames,
                new HistogramConfiguration { Buckets = histogram.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBuckets })
            : factory.CreateGauge(instrument.Name, help, labelNames);
    }

    /// <summary>Before a scrape: the observable gauges report now; series they no longer report go.</summary>
    private void Observe()
    {
        lock (scraping)
        {
            reported = [];
            try
            {
                listener.RecordObservableInstruments();
                foreach (var gauge in collectors.Where(c => c.Key.IsObservable).Select(c => c.Value).OfType<Gauge>())
                {
                    var series = reported.GetValueOrDefault(gauge) ?? [];
                    foreach (var labels in gauge.GetAllLabelValues().Where(l => !series.Contains(string.Join('\0', l))).ToList())
                    {
                        gauge.RemoveLabelled(labels);
                    }
                }
            }
            finally
            {
                reported = null;
            }
        }
    }
}
