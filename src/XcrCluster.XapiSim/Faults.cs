namespace XcrCluster.XapiSim;

/// <summary>Faults tests switch on under /sim/faults. Zero or null means off.</summary>
public sealed class Faults
{
    private int sessionInvalidNext;

    /// <summary>Export bodies are sent at most this fast (bytes/s).</summary>
    public long ExportBytesPerSecond { get; set; }

    public long ImportBytesPerSecond { get; set; }

    /// <summary>The connection is reset after this many body bytes of an export or import.</summary>
    public long ResetExportAfterBytes { get; set; }

    public long ResetImportAfterBytes { get; set; }

    /// <summary>Every SR reports itself full: creations and imports fail with SR_BACKEND_FAILURE_44.</summary>
    public bool SrFull { get; set; }

    public TimeSpan CallLatency { get; set; }

    /// <summary>Members answer exports with a 302 to the master (the host holding the SR), as XAPI does.</summary>
    public bool RedirectExports { get; set; }

    /// <summary>Export bodies end at connection close (as XAPI sends them) instead of being chunked.</summary>
    public bool CloseDelimitedExports { get; set; }

    /// <summary>/jsonrpc answers like an old host's XML-RPC handler (text/xml), so clients must fall back to XML-RPC.</summary>
    public bool DisableJsonRpc { get; set; }

    public void SessionInvalidOnNextCall() => Interlocked.Exchange(ref sessionInvalidNext, 1);

    public bool TakeSessionInvalid() => Interlocked.Exchange(ref sessionInvalidNext, 0) == 1;

    public void Clear()
    {
        ExportBytesPerSecond = ImportBytesPerSecond = ResetExportAfterBytes = ResetImportAfterBytes = 0;
        SrFull = RedirectExports = DisableJsonRpc = CloseDelimitedExports = false;
        CallLatency = TimeSpan.Zero;
        Interlocked.Exchange(ref sessionInvalidNext, 0);
    }
}
