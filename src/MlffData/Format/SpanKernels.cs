using System.Numerics;

namespace MlffData.Format;

/// <summary>
/// The per-element loops of the write path (checks, conversions, running maxima) over whole spans, SIMD-wide where
/// the hardware allows (<see cref="Vector{T}"/>), with the same result as the obvious scalar loop element by element.
/// </summary>
internal static class SpanKernels
{
    /// <summary>Whether every value is finite (no NaN, no infinity).</summary>
    internal static bool AllFinite(ReadOnlySpan<double> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // x * 0 is 0 for a finite x and NaN for an infinite or NaN one.
            for (; i <= values.Length - Vector<double>.Count; i += Vector<double>.Count)
                if (!Vector.EqualsAll(new Vector<double>(values[i..]) * Vector<double>.Zero, Vector<double>.Zero)) return false;
        }
        for (; i < values.Length; i++)
            if (!double.IsFinite(values[i])) return false;
        return true;
    }

    /// <summary>Whether no value's magnitude is above bound (a NaN is not above it).</summary>
    internal static bool NoneAbove(ReadOnlySpan<double> values, double bound)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var limit = new Vector<double>(bound);
            for (; i <= values.Length - Vector<double>.Count; i += Vector<double>.Count)
                if (Vector.GreaterThanAny(Vector.Abs(new Vector<double>(values[i..])), limit)) return false;
        }
        for (; i < values.Length; i++)
            if (Math.Abs(values[i]) > bound) return false;
        return true;
    }

    /// <summary>Whether every value lies in [min, max].</summary>
    internal static bool AllWithin(ReadOnlySpan<int> values, int min, int max)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Unsigned, value - min is above max - min exactly when value is outside [min, max].
            var low = new Vector<int>(min);
            var width = new Vector<uint>((uint)(max - min));
            for (; i <= values.Length - Vector<int>.Count; i += Vector<int>.Count)
                if (Vector.GreaterThanAny(Vector.AsVectorUInt32(new Vector<int>(values[i..]) - low), width)) return false;
        }
        for (; i < values.Length; i++)
            if (values[i] < min || values[i] > max) return false;
        return true;
    }

    /// <summary>Copies values into destination (at least as long) as 64-bit integers.</summary>
    internal static void Widen(ReadOnlySpan<int> values, Span<long> destination)
    {
        if (destination.Length < values.Length) throw new ArgumentException("Destination is too short", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                Vector.Widen(new Vector<int>(values[i..]), out var low, out var high);
                low.CopyTo(destination[i..]);
                high.CopyTo(destination[(i + Vector<long>.Count)..]);
            }
        }
        for (; i < values.Length; i++) destination[i] = values[i];
    }

    /// <summary>Converts values into destination (at least as long) as float32, rounding as a cast does, and returns
    /// the largest magnitude among the converted values and start (NaNs never count).</summary>
    internal static float NarrowMaxAbs(ReadOnlySpan<double> values, Span<float> destination, float start)
    {
        if (destination.Length < values.Length) throw new ArgumentException("Destination is too short", nameof(destination));
        int i = 0;
        float max = start;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var best = new Vector<float>(start);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var narrow = Vector.Narrow(new Vector<double>(values[i..]), new Vector<double>(values[(i + Vector<double>.Count)..]));
                narrow.CopyTo(destination[i..]);
                var magnitude = Vector.Abs(narrow);
                // Greater-than is false for NaN, so a NaN never replaces the maximum (as in the scalar loop).
                best = Vector.ConditionalSelect(Vector.GreaterThan(magnitude, best), magnitude, best);
            }
            for (int k = 0; k < Vector<float>.Count; k++)
                if (best[k] > max) max = best[k];
        }
        for (; i < values.Length; i++)
        {
            float f = (float)values[i];
            destination[i] = f;
            float a = Math.Abs(f);
            if (a > max) max = a;
        }
        return max;
    }
}
