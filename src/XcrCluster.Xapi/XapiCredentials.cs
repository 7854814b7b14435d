namespace XcrCluster.Xapi;

/// <summary>User name and password for session.login_with_password; prints with the password masked.</summary>
public sealed record XapiCredentials(string User, Secret Password)
{
    public override string ToString() => $"{User}:{Secret.Mask}";
}
