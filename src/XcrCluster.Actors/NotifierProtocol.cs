using Akka.Configuration;

namespace XcrCluster.Actors;

/// <summary>What the notifier singleton is asked (from the API on any node); the serializer is bound to it.</summary>
public interface INotifierMessage
{
}

/// <summary>Sends a test notice to one target now (one attempt) and answers <see cref="TestDelivered"/>.</summary>
public sealed record TestNotifyTarget(string TargetId) : INotifierMessage;

/// <summary>The delivery's outcome, or why there was none (<paramref name="Error"/>: no such target).</summary>
public sealed record TestDelivered(DeliveryEntry? Entry, string? Error) : INotifierMessage;

public sealed record GetDeliveryLog(int Limit) : INotifierMessage;

/// <summary>The newest deliveries' attempts first.</summary>
public sealed record DeliveryLog(IReadOnlyList<DeliveryEntry> Entries) : INotifierMessage;

/// <summary>One attempt to deliver a notice to a target. <paramref name="Status"/>: delivered, retrying (a later attempt
/// follows), failed (the last attempt, or a refusal not worth retrying), dropped (the queue was full).</summary>
public sealed record DeliveryEntry(string DeliveryId, string TargetId, string Event, int Attempt, string Status, int? HttpStatus,
    string? Error, DateTimeOffset At);

/// <summary>Marker type for the notifier singleton (and its proxy) in Akka.Hosting's registry.</summary>
public sealed class Notifier
{
}

/// <summary>The notifier's bounds (<c>xcr.notify</c> in the configuration, defaults here).</summary>
public sealed record NotifierOptions
{
    /// <summary>Attempts per delivery; the pause doubles from <see cref="FirstRetry"/> up to <see cref="MaxRetry"/>.</summary>
    public int Attempts { get; init; } = 5;

    public TimeSpan FirstRetry { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetry { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one HTTP request or SMTP session may take.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Deliveries waiting (the oldest is dropped, with a log line, beyond) and going at once.</summary>
    public int QueueLimit { get; init; } = 1000;

    public int InFlight { get; init; } = 4;

    /// <summary>Attempts kept in the delivery log.</summary>
    public int LogLimit { get; init; } = 500;

    /// <summary>How often runs are checked against their VMs' entities (a run whose VM ends were missed is still reported).</summary>
    public TimeSpan Sweep { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Runs launched longer ago are no longer watched.</summary>
    public TimeSpan MaxOpen { get; init; } = TimeSpan.FromDays(1);

    /// <summary>A run's VM that its entity never accepted (refused) counts as ended once the run is this old.</summary>
    public TimeSpan RefusedAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>VM states asked per sweep at most (the newest runs first).</summary>
    public int SweepBudget { get; init; } = 2000;

    public static NotifierOptions From(Config config)
    {
        var d = new NotifierOptions();
        TimeSpan Time(string key, TimeSpan fallback) => config.GetTimeSpan($"xcr.notify.{key}", fallback, allowInfinite: false);
        return new NotifierOptions
        {
            Attempts = config.GetInt("xcr.notify.attempts", d.Attempts), FirstRetry = Time("first-retry", d.FirstRetry),
            MaxRetry = Time("max-retry", d.MaxRetry), AttemptTimeout = Time("attempt-timeout", d.AttemptTimeout),
            QueueLimit = config.GetInt("xcr.notify.queue-limit", d.QueueLimit), Sweep = Time("sweep", d.Sweep),
            RefusedAfter = Time("refused-after", d.RefusedAfter),
        };
    }

    /// <summary>The pause before attempt <paramref name="attempt"/> + 1.</summary>
    public TimeSpan Backoff(int attempt)
        => TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, FirstRetry.Ticks * (1L << Math.Min(attempt - 1, 20))));
}
