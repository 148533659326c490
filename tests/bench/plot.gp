# gnuplot -e "dir='build/bench'" tests/bench/plot.gp   (scripts/bench.sh)
# Inputs from tests/bench/report.py: latency.dat, throughput1.dat and
# throughput4.dat (one block per series, the first line its title) and
# floors.gp (hfloor, gfloor: the host's and the guest<->host cache-line
# floors, p50 in us).
load dir."/floors.gp"
set terminal pngcairo size 1000,650 noenhanced
set key outside right top
set grid
set logscale xy
set xlabel "message size (bytes)"
set xtics ("64" 64, "4K" 4096, "64K" 65536, "1M" 1048576)
set xrange [48:1400000]
set output dir."/latency.png"
set title "Round trip p50, guest -> host echo (every byte written and checked unless noted)"
set ylabel "p50 (us)"
stats dir."/latency.dat" using 1 nooutput
plot for [i=0:STATS_blocks-1] dir."/latency.dat" index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1), \
     gfloor with lines dt 2 lw 2 lc rgb "gray30" title "guest<->host cache-line floor", \
     hfloor with lines dt 3 lw 2 lc rgb "black" title "host cache-line floor"
set output dir."/throughput.png"
set title "Throughput, guest -> host sink (solid: 1 sender, dashed: 4 senders)"
set ylabel "GB/s"
stats dir."/throughput1.dat" using 1 nooutput
n1 = STATS_blocks
stats dir."/throughput4.dat" using 1 nooutput
n4 = STATS_blocks
plot for [i=0:n1-1] dir."/throughput1.dat" index i using 1:2 with linespoints lw 2 pt 7 lt i+1 title columnheader(1), \
     for [i=0:n4-1] dir."/throughput4.dat" index i using 1:2 with linespoints lw 2 dt 2 pt 6 lt i+1 title columnheader(1)
