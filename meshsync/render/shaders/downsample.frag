#version 330
// Supersampling resolve: the average of taps x taps bilinear samples over each output pixel's
// footprint. Bilinear filtering is done by hand with texelFetch: sampling a freshly rendered texture
// with LINEAR filtering is several times slower on llvmpipe.
uniform sampler2D source;
uniform vec2 out_size;
uniform int taps;
in vec2 v_uv;
out vec4 frag_color;

vec4 bilinear(vec2 uv) {
    vec2 p = uv * vec2(textureSize(source, 0)) - 0.5;
    ivec2 i = ivec2(floor(p));
    vec2 f = p - floor(p);
    vec4 top = mix(texelFetch(source, i, 0), texelFetch(source, i + ivec2(1, 0), 0), f.x);
    vec4 bottom = mix(texelFetch(source, i + ivec2(0, 1), 0), texelFetch(source, i + ivec2(1, 1), 0), f.x);
    return mix(top, bottom, f.y);
}

void main() {
    vec2 pixel = 1.0 / out_size;
    vec4 sum = vec4(0.0);
    for (int j = 0; j < taps; ++j)
        for (int i = 0; i < taps; ++i)
            sum += bilinear(v_uv + ((vec2(i, j) + 0.5) / float(taps) - 0.5) * pixel);
    frag_color = sum / float(taps * taps);
}
