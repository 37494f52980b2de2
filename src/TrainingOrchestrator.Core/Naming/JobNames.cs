using System.Security.Cryptography;
using System.Text;

namespace TrainingOrchestrator.Core.Naming;

public enum JobKind { Training, Tuning }

/// <summary>
/// SageMaker job names, derived deterministically from the request id so that every delivery of a request
/// maps to the same job: "{prefix}-{readable}-{hash}" for training (at most 63 characters) and
/// "{prefix}-{readable}-{hash}-hpo" for tuning (at most 32). The hash (base36 of SHA-256 of the request id:
/// 10 characters, 51 bits, for training; 8 characters, 41 bits, for tuning) keeps distinct ids apart; the
/// readable part (from the request's name, else its id) is only for people and is cut to fit.
/// </summary>
public static class JobNames
{
    public const int TrainingMaxLength = 63;
    public const int TuningMaxLength = 32;
    public const string TuningSuffix = "-hpo";
    private const int TrainingHashLength = 10;
    private const int TuningHashLength = 8;

    public static string Training(string prefix, string requestId, string? name) =>
        Compose(prefix, requestId, name, TrainingHashLength, "", TrainingMaxLength);

    public static string Tuning(string prefix, string requestId, string? name) =>
        Compose(prefix, requestId, name, TuningHashLength, TuningSuffix, TuningMaxLength);

    public static string For(JobKind kind, string prefix, string requestId, string? name) =>
        kind == JobKind.Tuning ? Tuning(prefix, requestId, name) : Training(prefix, requestId, name);

    /// <summary>The kind of one of our job names (a tuning job's trials are training jobs).</summary>
    public static JobKind KindOf(string jobName) =>
        jobName.EndsWith(TuningSuffix, StringComparison.Ordinal) ? JobKind.Tuning : JobKind.Training;

    /// <summary>The job name at the end of a SageMaker ARN: ...:hyper-parameter-tuning-job/name -> name.</summary>
    public static string? FromArn(string? arn) => string.IsNullOrEmpty(arn) ? null : arn[(arn.LastIndexOf('/') + 1)..];

    /// <summary>SageMaker's job name pattern, ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$: letters, digits and inner hyphens, 1 to 63.</summary>
    public static bool IsSageMakerName(string? name) =>
        name is { Length: > 0 and <= TrainingMaxLength } && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    /// <summary>Whether a name is one of ours: our prefix, then a hyphen.</summary>
    public static bool IsOurs(string prefix, string jobName) =>
        jobName.StartsWith(prefix + "-", StringComparison.Ordinal);

    private static string Compose(string prefix, string requestId, string? name, int hashLength, string suffix, int maxLength)
    {
        var hash = Hash(requestId, hashLength);
        var budget = maxLength - prefix.Length - 1 - hashLength - 1 - suffix.Length;
        var readable = Readable(name ?? requestId, budget);
        return readable.Length == 0
            ? $"{prefix}-{hash}{suffix}"
            : $"{prefix}-{readable}-{hash}{suffix}";
    }

    /// <summary>Letters and digits kept, every other run turned into one hyphen, cut to the budget.</summary>
    private static string Readable(string text, int budget)
    {
        if (budget <= 0) return "";
        var builder = new StringBuilder(Math.Min(text.Length, budget));
        foreach (var c in text)
        {
            if (builder.Length >= budget) break;
            if (char.IsAsciiLetterOrDigit(c)) builder.Append(c);
            else if (builder.Length > 0 && builder[^1] != '-') builder.Append('-');
        }
        return builder.ToString().TrimEnd('-');
    }

    private static string Hash(string requestId, int length)
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(requestId), digest);
        // The digest as a little-endian number, written in base 36 from its lowest digit: only the number modulo
        // 36^length matters, so it is reduced byte by byte from the top instead of divided as a 256-bit integer
        // (36^10 * 256 is below 2^63, so a ulong holds every step).
        if (length > 10) throw new ArgumentOutOfRangeException(nameof(length), length, "at most 10 base-36 digits");
        var modulus = 1UL;
        for (var i = 0; i < length; i++) modulus *= 36;
        var value = 0UL;
        for (var i = digest.Length - 1; i >= 0; i--)
            value = (value * 256 + digest[i]) % modulus;
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[(int)(value % 36)];
            value /= 36;
        }
        return new string(chars);
    }
}
