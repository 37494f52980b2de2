namespace TrainingOrchestrator.Local;

/// <summary>The training toolkit's failure texts (sagemaker_training errors.py and process.py), written to output/failure.</summary>
internal static class ToolkitErrors
{
    // The toolkit's _PYTHON_ERRORS_ and _MPI_ERRORS_: its captured error starts at the first line naming one.
    private static readonly string[] ErrorNames =
    [
        "BaseException", "Exception", "ArithmeticError", "AssertionError", "AttributeError", "BlockingIOError", "BrokenPipeError",
        "BufferError", "ChildProcessError", "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
        "EOFError", "EnvironmentError", "FileExistsError", "FileNotFoundError", "FloatingPointError", "IOError", "ImportError",
        "IndentationError", "IndexError", "InterruptedError", "IsADirectoryError", "KeyError", "LookupError", "MemoryError",
        "ModuleNotFoundError", "NameError", "NotADirectoryError", "NotImplementedError", "OSError", "OverflowError", "PermissionError",
        "ProcessLookupError", "RecursionError", "ReferenceError", "RuntimeError", "SyntaxError", "SystemError", "TabError",
        "TimeoutError", "TypeError", "UnboundLocalError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError",
        "UnicodeTranslateError", "ValueError", "ZeroDivisionError", "Invalidrequirement", "ResourceExhaustedError", "OutOfRangeError",
        "InvalidArgumentError", "mpirun.real", "ORTE",
    ];

    /// <summary>What the toolkit captures of a failed process's standard error: from the first error line on, each line once.</summary>
    public static string CapturedError(IReadOnlyList<string> stderr, bool fromFirstErrorLine = true)
    {
        var start = fromFirstErrorLine ? stderr.ToList().FindIndex(l => ErrorNames.Any(n => l.Contains(n, StringComparison.Ordinal))) : 0;
        if (start < 0) return "";
        return string.Join('\n', stderr.Skip(start).Select(l => l.Trim(' ', ':', '\n')).Distinct(StringComparer.Ordinal)).Trim();
    }

    /// <summary>errors._CalledProcessError.__str__ for a class (ExecuteUserScriptError, InstallRequirementsError).</summary>
    public static string CalledProcessError(string errorClass, int exitCode, string errorMessage, string command) =>
        $"{errorClass}:\nExitCode {exitCode}\nErrorMessage \"{errorMessage}\"\nCommand \"{command}\"";

    public static string ExecuteUserScriptError(int exitCode, string errorMessage, string command) =>
        CalledProcessError("ExecuteUserScriptError", exitCode, errorMessage, command);

    /// <summary>
    /// sagemaker-containers' _errors._CalledProcessError.__str__ (the toolkit's predecessor) for a class
    /// (ExecuteUserScriptError, InstallModuleError): the command, then the captured stderr if any.
    /// </summary>
    public static string LegacyCalledProcessError(string errorClass, string command, string capturedError) =>
        (capturedError.Length > 0 ? $"{errorClass}:\nCommand \"{command}\"\n{capturedError}" : $"{errorClass}:\nCommand \"{command}\"").Trim();
}
