namespace XcrCluster.Replication;

/// <summary>The reason an operator reads for an exception: an AggregateException (a faulted task) says what is inside it.</summary>
public static class ErrorText
{
    public static string Of(Exception e) => (e is AggregateException a ? a.GetBaseException() : e).Message;
}
