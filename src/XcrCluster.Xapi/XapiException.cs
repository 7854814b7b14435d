namespace XcrCluster.Xapi;

/// <summary>An XAPI failure: the error code and its parameters, as the wire's ErrorDescription carries them.</summary>
public sealed class XapiException(string code, params string[] parameters) : Exception(code + (parameters.Length > 0 ? " [" + string.Join(", ", parameters) + "]" : ""))
{
    public string Code { get; } = code;

    public IReadOnlyList<string> Parameters { get; } = parameters;

    public IReadOnlyList<string> Description => [Code, .. Parameters];
}
