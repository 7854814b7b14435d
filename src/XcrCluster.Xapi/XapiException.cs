namespace XcrCluster.Xapi;

/// <summary>An XAPI failure: the error code and its parameters, as the wire's ErrorDescription carries them.</summary>
public class XapiException : Exception
{
    public XapiException(string code, params string[] parameters)
        : this(code, parameters, code + (parameters.Length > 0 ? " [" + string.Join(", ", parameters) + "]" : ""), null)
    {
    }

    /// <summary>For failures the client itself detects, which carry a sentence rather than XAPI's code format.</summary>
    protected XapiException(string code, string[] parameters, string message, Exception? inner)
        : base(message, inner)
    {
        Code = code;
        Parameters = parameters;
    }

    public string Code { get; }

    public IReadOnlyList<string> Parameters { get; }

    public IReadOnlyList<string> Description => [Code, .. Parameters];
}
