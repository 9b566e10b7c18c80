#version 330
// A background image already at the scene's resolution, copied pixel for pixel (it is sRGB, as the
// scene's colours are after the mesh shader's encode).
uniform sampler2D image;
out vec4 frag_color;

void main() {
    frag_color = texelFetch(image, ivec2(gl_FragCoord.xy), 0);
}
