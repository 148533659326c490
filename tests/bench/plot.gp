# gnuplot -e "dir='build/bench'; floor=0.06" tests/bench/plot.gp
# latency.dat / throughput.dat: one block per series, header line = title
set terminal pngcairo size 900,600 noenhanced
set key top left
set grid
set logscale xy
set xlabel "message size (bytes)"
set xtics ("64" 64, "4K" 4096, "64K" 65536, "1M" 1048576)
set output dir."/latency.png"
set title "Round-trip latency p50 (guest -> host echo)"
set ylabel "p50 (us)"
stats dir."/latency.dat" using 1 nooutput
plot for [i=0:STATS_blocks-1] dir."/latency.dat" index i using 1:2 with linespoints lw 2 title columnheader(1), \
     floor with lines dt 2 lc rgb "black" title "host floor (2 procs, 1 cache line)"
set output dir."/throughput.png"
set title "Throughput, guest -> host sink"
set ylabel "GB/s"
stats dir."/throughput.dat" using 1 nooutput
plot for [i=0:STATS_blocks-1] dir."/throughput.dat" index i using 1:2 with linespoints lw 2 title columnheader(1)
