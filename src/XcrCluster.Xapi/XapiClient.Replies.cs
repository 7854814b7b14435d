using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi;

/// <summary>What a reply must look like: a value of the wrong shape is the pool's fault, reported as an
/// <see cref="XapiProtocolException"/> naming the endpoint and the method, never an InvalidCastException.</summary>
public sealed partial class XapiClient
{
    internal Dictionary<string, object?> AsMap(string method, object? value)
        => value as Dictionary<string, object?> ?? throw Malformed(method, $"expected a map, got {Shape(value)}");

    internal string AsString(string method, object? value)
        => value as string ?? throw Malformed(method, $"expected a string, got {Shape(value)}");

    /// <summary>A settled task's result, decoded (the pool's XML-RPC fragment may be anything).</summary>
    internal object? ResultOf(string method, TaskRecord task)
    {
        try
        {
            return ResultOf(task);
        }
        catch (Exception e) when (XapiProtocolException.IsMalformedReply(e))
        {
            throw Malformed(method, $"unreadable result of task {task.Ref} ({e.GetType().Name}: {e.Message})", e);
        }
    }

    internal XapiProtocolException Malformed(string method, string problem, Exception? inner = null)
        => new(EndpointName, method, problem, inner);

    private TimeoutException CallTimedOut(string method, TimeSpan bound)
        => new($"{method} on {EndpointName} took longer than {bound.TotalSeconds:F0} s");

    private static string Shape(object? value) => value switch
    {
        null => "null",
        List<object?> => "a set",
        Dictionary<string, object?> => "a map",
        _ => value.GetType().Name,
    };

    private static void Validate(XapiClientOptions options)
    {
        if (options.MaxResponseBytes < 1 || options.MaxResponseBytes >= Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"MaxResponseBytes must be between 1 and {Array.MaxLength - 1}, not {options.MaxResponseBytes}");
        }

        if (options.TaskTimeout <= TimeSpan.Zero || options.TaskTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"TaskTimeout must be positive and at most {TimeSpan.FromMilliseconds(int.MaxValue)}, not {options.TaskTimeout}");
        }
    }
}
