package settings
import ("testing";"strings";"time")
func TestProbeTOML(t *testing.T){
  for _, n := range []int{1000, 10000, 50000} {
   for _, c := range []string{"x = " + strings.Repeat("[", n), "x = " + strings.Repeat("[", n)+ strings.Repeat("]", n), strings.Repeat("a.", n)+"b=1\n", "[" + strings.Repeat("a.", n)+"b]\n", "x = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n), strings.Repeat("[[a]]\n", n)} {
    st := time.Now(); _, err := decodeTOML("p", c); t.Log(n, c[:6], time.Since(st), err != nil)
   }
  }
}
