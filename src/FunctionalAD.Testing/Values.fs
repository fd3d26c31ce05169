namespace FunctionalAD.Testing

open System

/// What the elements of a generated tensor may be: an interval, points to keep away from (kinks, poles,
/// discontinuities) and whether IEEE special values (±0, ±inf, NaN) are mixed in. Integer dtypes round the
/// interval's values to integers.
type Values =
    { /// Smallest value drawn.
      Low: float
      /// Largest value drawn.
      High: float
      /// Points the values keep at least Gap away from (the kinks of abs or relu, the pole of 1/x).
      Kinks: float[]
      /// The smallest distance from every kink (0: none).
      Gap: float
      /// Mix in -0, +inf, -inf and NaN (about one element in five) besides the interval's values.
      Specials: bool }

/// Builders of Values and the rules by which one value shrinks to a simpler one.
[<RequireQualifiedAccess>]
module Values =

    /// Finite values in [low, high]. Throws ArgumentException when low > high or either is not finite.
    let between (low: float) (high: float) =
        if not (Double.IsFinite low && Double.IsFinite high) || low > high then
            invalidArg "low" (sprintf "Values.between: need finite low <= high, got [%g, %g]" low high)
        { Low = low; High = high; Kinks = [||]; Gap = 0.0; Specials = false }

    /// Finite values in [-2, 2]: the default.
    let standard = between -2.0 2.0

    /// v with values also kept at least `gap` away from each of `points` (e.g. `awayFrom [0.0] 0.1` for abs).
    /// Throws ArgumentException when the gap is negative or leaves nothing of the interval.
    let awayFrom (points: float seq) (gap: float) (v: Values) =
        if gap < 0.0 then invalidArg "gap" (sprintf "Values.awayFrom: gap %g is negative" gap)
        let v' = { v with Kinks = Array.append v.Kinks (Array.ofSeq points); Gap = max gap v.Gap }
        let covered = v'.Kinks |> Array.exists (fun k -> k - v'.Gap <= v'.Low && v'.High <= k + v'.Gap)
        if covered && v'.Gap > 0.0 then
            invalidArg "gap" (sprintf "Values.awayFrom: a gap of %g around %A leaves nothing of [%g, %g]" v'.Gap v'.Kinks v'.Low v'.High)
        v'

    /// v with ±0, ±inf and NaN mixed in (for testing that functions propagate or reject them).
    let withSpecials (v: Values) = { v with Specials = true }

    /// True when x may be drawn from v (specials only when v allows them).
    let contains (v: Values) (x: float) =
        if Double.IsNaN x || Double.IsInfinity x then v.Specials
        else x >= v.Low && x <= v.High && v.Kinks |> Array.forall (fun k -> v.Gap = 0.0 || abs (x - k) >= v.Gap)

    /// The allowed sub-intervals of [Low, High] once the gaps around the kinks are removed.
    let intervals (v: Values) : (float * float) list =
        let cuts = v.Kinks |> Array.filter (fun _ -> v.Gap > 0.0) |> Array.map (fun k -> k - v.Gap, k + v.Gap) |> Array.sortBy fst
        let mutable pieces = [ v.Low, v.High ]
        for (a, b) in cuts do
            pieces <- pieces |> List.collect (fun (lo, hi) ->
                [ if a > lo then lo, min hi a
                  if b < hi then max lo b, hi ] |> List.filter (fun (lo, hi) -> lo <= hi))
        pieces

    /// How complicated a value reads: (decimal digits needed, magnitude); specials are the most complicated.
    /// Shrinking only moves to values with a smaller complexity, so it terminates.
    let complexity (x: float) =
        if Double.IsNaN x || Double.IsInfinity x then (20, Double.MaxValue)
        else
            let digits = [ 0 .. 16 ] |> List.tryFind (fun d -> let p = 10.0 ** float d in Math.Round(x * p) / p = x)
            (defaultArg digits 17, abs x)

    /// Simpler values than x that v allows, simplest first: 0, 1, -1, 2, -2, 0.5, then x rounded to fewer digits.
    let shrink (v: Values) (x: float) : float seq =
        let cx = complexity x
        let candidates =
            [ 0.0; 1.0; -1.0; 2.0; -2.0; 0.5; -0.5; Math.Truncate x; Math.Round x; Math.Round(x * 2.0) / 2.0
              Math.Round(x * 10.0) / 10.0; Math.Round(x * 100.0) / 100.0; v.Low; v.High ]
        candidates
        |> List.filter (fun c -> Double.IsFinite c && contains { v with Specials = false } c && complexity c < cx)
        |> List.distinct
        |> Seq.ofList
